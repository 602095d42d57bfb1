//! Reference solution for exercise 10: chain IDs.

use cratebox_image::digest::Digest;

/// The chain ID of every prefix of `diff_ids` (base layer first), in the
/// same order: the first is the chain ID of the base alone, the last that
/// of the whole image.
///
/// ```text
/// ChainID(L0)     = DiffID(L0)
/// ChainID(L0..Ln) = sha256( ChainID(L0..Ln-1) + " " + DiffID(Ln) )
/// ```
///
/// The string hashed is the parent's chain ID and the layer's diff ID as
/// they are written, `sha256:` and all, with one space between them. No
/// layers, no chain IDs.
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
