//! rust-open: read `<dir>/MARKER` for each argument with Rust's std, and print
//! what std says, word for word, so the report's own error message shows up.
//!
//! One line per argument: `ok <dir>: <content>` or `error <dir>: <std's error>`.
//! Build: see guests/README.md (Debian's rustc, --target wasm32-wasi).
use std::env;
use std::fs;

fn main() {
    for dir in env::args().skip(1) {
        let target = if dir.is_empty() || dir.ends_with('/') {
            format!("{}MARKER", dir)
        } else {
            format!("{}/MARKER", dir)
        };
        match fs::read_to_string(&target) {
            Ok(content) => println!("ok {}: {}", dir, content),
            Err(err) => println!("error {}: {}", dir, err),
        }
    }
}
