//! # Exercise 10: chain IDs, the name of a layer on top of its parents
//!
//! An image's config lists a *diff ID* per layer: the sha256 of that
//! layer's uncompressed tar, its own changes and nothing else. Unpacked on
//! disk, though, a layer is only meaningful on top of the same parents (its
//! whiteouts delete *their* files). So an unpacked layer is named by its
//! *chain ID*, which hashes the whole stack up to it:
//!
//! | layers | chain ID |
//! |---|---|
//! | A | DiffID(A) |
//! | A+B | sha256(ChainID(A) + " " + DiffID(B)) |
//! | A+B+C | sha256(ChainID(A+B) + " " + DiffID(C)) |
//!
//! ubuntu is A+B+C and nginx is A+B+C+nginx: their first three chain IDs
//! are the same, so ubuntu's three unpacked layers serve both images.
//!
//! Write [`chain_ids`]. Run `cargo ex check 10_chain_ids` until it passes.

// The parameters are unused until the `todo!()` is replaced.
#![allow(unused_variables)]

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
    // TODO: walk the diff IDs in order, keeping the chain IDs so far. The
    //       first is the diff ID itself; each next one is the digest
    //       (`Digest::of`) of the bytes of "PARENT DIFF_ID", where PARENT is
    //       the previous chain ID. A Digest displays as `sha256:...`.
    todo!("the chain ID of each prefix of the layers")
}
