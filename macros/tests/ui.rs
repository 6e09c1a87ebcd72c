//! Compile-time behaviour of the macros: programs that must build (and run), and
//! mistakes that must fail with the error in the matching `.stderr` file.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
