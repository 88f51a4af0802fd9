//! Every request type: the first byte picks the gRPC method, the rest is the
//! encoded request, taken through decode → parse → validate.
#![no_main]

use cosx_coordinator::fuzzing::{METHODS, request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&pick, bytes)) = data.split_first() {
        let _ = request(METHODS[usize::from(pick) % METHODS.len()], bytes);
    }
});
