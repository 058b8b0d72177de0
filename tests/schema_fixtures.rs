//! placeholder, replaced below
#[test]
fn placeholder() {}
