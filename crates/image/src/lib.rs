//! # cratebox-image: images as layers, containers as one more layer
//!
//! An image is a stack of layers plus a little JSON: which layers, in
//! which order, and how to run the result. This crate stores images the way
//! the OCI image spec lays them out, unpacks each layer once, and gives a
//! container its root file system as an overlay of those layers with a
//! writable layer of its own on top.
//!
//! | file | idea |
//! |---|---|
//! | [`digest`] | content addressing: a blob's name is the sha256 of its bytes |
//! | [`reference`] | `name:tag` |
//! | [`store`] | the OCI layout: `oci-layout`, `index.json`, `blobs/sha256/...` |
//! | [`build`] | a new image: a base's layers plus one (import, commit) |
//! | [`new_image`] | an image being made: config edits, layers added, written to the store |
//! | [`platform`] | which architecture and OS an image is for, in OCI's names |
//! | [`chain`] | chain IDs: the key of a layer *on top of* its parents |
//! | [`changeset`] | the spec's rules for applying a layer to a tree, pure |
//! | [`layers`] | each layer unpacked once, by chain ID, shared |
//! | [`unpack`] | extracting a layer tar safely, whiteouts as overlayfs wants them |
//! | [`diff`] | what a container changed (`diff`), and that change as a new layer (`commit`) |
//! | [`overlay`] | the overlay mount options for a stack of layers |
//! | [`archive`] | `save` and `load`: an image as one OCI archive file |

pub mod archive;
pub mod build;
pub mod chain;
pub mod changeset;
pub mod diff;
pub mod digest;
pub mod layers;
pub mod new_image;
pub mod overlay;
pub mod platform;
pub mod reference;
pub mod store;
pub mod unpack;
