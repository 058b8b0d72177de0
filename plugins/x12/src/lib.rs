//! Shared ASC X12 parsing for the Waybill X12 mapping plugins.
//!
//! Carriers send X12 (214 status, 210 invoices, ...) with whatever delimiters
//! their translator was configured with, and real files are messy: newline
//! terminators instead of `~`, CRLF, several segments on one line, blank
//! lines, padding after `IEA`. Every X12 plugin needs the same tolerant
//! reading, so it lives here once instead of being re-done per plugin.
//!
//! The crate depends only on `std` and knows nothing of Waybill types: errors
//! are [`X12Error`] values carrying a `/<SEG>[n]/<elem>` path, a stable code
//! and a message naming the segment position and line, which a plugin turns
//! into its own error type.
//!
//! ```
//! let text = "ISA*00*          *00*          *02*SCAC           *ZZ*RECEIVER       *160726*1303*U*00403*000082265*0*T*>~\
//! GS*QM*SCAC*RECEIVER*20160726*1303*1*X*004030~ST*214*0001~B10*PRO*BOL*SCAC~SE*3*0001~GE*1*1~IEA*1*000082265~";
//! let interchange = waybill_x12::Interchange::parse(text).expect("valid interchange");
//! let sets = interchange.transaction_sets().expect("valid envelope");
//! assert_eq!(sets[0].code(), "214");
//! assert_eq!(sets[0].body()[0].value(2), Some("BOL"));
//! ```

mod delimiters;
mod envelope;
mod error;
mod loops;
mod segment;
mod tokenizer;

pub use delimiters::Delimiters;
pub use envelope::{Interchange, TransactionSet};
pub use error::X12Error;
pub use loops::{first, split_loops};
pub use segment::Segment;
