//! The store's garbage collection: what a name keeps, what an owner keeps
//! without a name (the build cache), and what goes. No root needed.

#![allow(clippy::unwrap_used)]

use std::io::Write;

use cratebox_image::build::store_layer_file;
use cratebox_image::new_image::{Layer, NewImage};
use cratebox_image::reference::Reference;
use cratebox_image::store::Store;

/// A one-file layer tar in `dir`, stored, and an unnamed image of it.
fn unnamed_image(store: &Store, dir: &std::path::Path, content: &str) -> NewImage {
    let path = dir.join(format!("{content}.tar"));
    let mut builder = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut header = tar::Header::new_ustar();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "file", content.as_bytes())
        .unwrap();
    builder.into_inner().unwrap().flush().unwrap();
    let layer = store_layer_file(store, &path).unwrap();
    let mut image = NewImage::root_filesystem();
    image.add_layer(Some(Layer::from(&layer)), content);
    image.write(store).unwrap();
    image
}

#[test]
fn gc_keeps_named_and_kept_images_and_releasing_lets_them_go() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("oci")).unwrap();
    let named = unnamed_image(&store, dir.path(), "named");
    let kept = unnamed_image(&store, dir.path(), "kept");
    let loose = unnamed_image(&store, dir.path(), "loose");
    let written = named.written.clone().unwrap();
    let reference: Reference = "app:v1".parse().unwrap();
    store
        .tag(&reference, &written.manifest, written.manifest_size)
        .unwrap();
    store
        .keep("build-cache", &kept.written.clone().unwrap().manifest)
        .unwrap();

    let removed = store.gc().unwrap();
    let all_present = |image: &NewImage| image.blobs().iter().all(|b| store.has_blob(b));
    assert!(all_present(&named) && all_present(&kept));
    assert!(!loose.blobs().iter().any(|b| store.has_blob(b)));
    assert_eq!(removed.len(), loose.blobs().len(), "{removed:?}");

    assert_eq!(store.release_all("build-cache").unwrap(), 1);
    store.gc().unwrap();
    assert!(all_present(&named));
    assert!(!kept.blobs().iter().any(|b| store.has_blob(b)));
    assert_eq!(store.release_all("build-cache").unwrap(), 0);
}
