//! `Ingest` requests through decode → parse → validate.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cosx_coordinator::fuzzing::request("Ingest", data);
});
