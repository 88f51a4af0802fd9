//! An exported audit log (JSON lines) through the offline verifier and the
//! chain check.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cosx_coordinator::fuzzing::audit_log(data);
});
