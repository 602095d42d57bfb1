//! A blob on its way into the store: written to a temporary file, hashed
//! as it goes, named by its digest only once complete.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;

use super::{io_error, Store, StoreError};
use crate::digest::{Digest, HashingWriter};

/// A blob on its way into the store: see [`Store::blob_writer`].
#[derive(Debug)]
pub struct BlobWriter {
    pub(super) store: Store,
    pub(super) writer: Option<HashingWriter<File>>,
    pub(super) temp: PathBuf,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.writer.as_mut() {
            Some(writer) => writer.write(buf),
            None => Err(io::Error::other("the blob was already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.as_mut().map_or(Ok(()), |w| w.flush())
    }
}

impl BlobWriter {
    /// Sync the bytes written and name the blob by their digest. With
    /// `expected`, refuse any other digest, keeping nothing.
    pub fn commit(mut self, expected: Option<&Digest>) -> Result<(Digest, u64), StoreError> {
        let Some(writer) = self.writer.take() else {
            return Err(io_error("cannot commit twice", &self.temp)(
                io::Error::other("committed"),
            ));
        };
        let (digest, size, file) = writer.finish();
        file.sync_all()
            .map_err(io_error("cannot sync", &self.temp))?;
        if let Some(expected) = expected.filter(|e| **e != digest) {
            return Err(StoreError::DigestMismatch {
                expected: expected.clone(),
                actual: digest,
            });
        }
        let path = self.store.blob_path(&digest);
        fs::rename(&self.temp, &path).map_err(io_error("cannot store", &path))?;
        Ok((digest, size))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // Committed blobs were renamed away; anything else goes.
        let _ = fs::remove_file(&self.temp);
    }
}
