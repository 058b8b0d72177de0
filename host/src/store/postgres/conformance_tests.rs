//! The PostgreSQL store passes the backend-neutral conformance suite: one
//! test per case, each in a fresh schema of the database named by
//! `WAYBILL_TEST_POSTGRES` (skipped, saying so, without it).

use super::test_db::Schemas;
use crate::store::conformance;

macro_rules! cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(schemas) = Schemas::from_env() else { return };
                conformance::$module::$case(&schemas).await;
                schemas.cleanup().await;
            }
        )*
    };
}

conformance::with_cases!(cases);
