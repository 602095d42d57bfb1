//! Chain IDs: the name of a layer *together with everything below it*.
//!
//! A layer's diff_id names its own changes; unpacked, though, a layer only
//! makes sense on top of its parents (its whiteouts delete *their* files).
//! The spec's chain ID names the whole stack so far:
//!
//! ```text
//! ChainID(L0)     = DiffID(L0)
//! ChainID(L0..Ln) = sha256( ChainID(L0..Ln-1) + " " + DiffID(Ln) )
//! ```
//!
//! Two images that start with the same layers get the same chain IDs for
//! them, so they share the unpacked directories: ubuntu's A+B+C is on disk
//! once, and nginx = A+B+C+nginx adds one directory.

use crate::digest::Digest;

// ANCHOR: chain_ids
/// The chain ID of each prefix of `diff_ids` (base layer first).
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut chain: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = match chain.last() {
            None => diff_id.clone(),
            Some(parent) => Digest::of(format!("{parent} {diff_id}").as_bytes()),
        };
        chain.push(next);
    }
    chain
}
// ANCHOR_END: chain_ids

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_is_the_diff_id_then_each_hashes_its_parent() {
        let a = Digest::of(b"A");
        let b = Digest::of(b"B");
        let chain = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(chain[0], a);
        assert_eq!(chain[1], Digest::of(format!("{a} {b}").as_bytes()));
        // Same base, same chain: nginx on ubuntu shares ubuntu's IDs.
        let c = Digest::of(b"C");
        assert_eq!(chain_ids(&[a.clone(), b.clone(), c])[..2], chain[..]);
        assert!(chain_ids(&[]).is_empty());
    }
}
