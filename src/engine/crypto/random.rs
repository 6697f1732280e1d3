//! Random bytes for `crypto.getRandomValues`, `randomBytes` and `randomUUID`.

use aws_lc_rs::rand::SystemRandom;

/// `n` random bytes from aws-lc's generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    // The system generator only fails when the OS has no entropy source;
    // fall back to the thread generator rather than hand back zeros.
    if aws_lc_rs::rand::SecureRandom::fill(&SystemRandom::new(), &mut out).is_err() {
        out.iter_mut().for_each(|b| *b = rand::random::<u8>());
    }
    out
}
