//! A blob download that survives a cut connection.
//!
//! A layer can be hundreds of megabytes; a connection that drops at 90 %
//! should not cost the first 90 %. [`BlobReader`] is a plain `Read`: when
//! the body ends early or fails, it asks again with
//! `Range: bytes=N-`, where N is what it has already handed on, and goes on
//! from there. Whoever reads from it (the digest check, the unpacker)
//! never sees the cut.

use std::io::{self, Read};
use std::time::Duration;

use ureq::http::{Method, StatusCode};
use ureq::BodyReader;

use crate::client::{header, Client, Request, ATTEMPTS};
use crate::error::RegistryError;

/// Called with the bytes read so far and the size, if known.
pub type OnProgress<'a> = Box<dyn FnMut(u64, Option<u64>) + Send + 'a>;

/// The body of `GET /v2/REPO/blobs/DIGEST`, resumed when cut.
pub struct BlobReader<'a> {
    client: &'a Client,
    url: String,
    scope: String,
    body: Option<BodyReader<'static>>,
    /// Bytes handed to the reader so far.
    done: u64,
    /// The blob's size, from the first answer.
    total: Option<u64>,
    /// Resumptions left.
    retries: u32,
    on_progress: OnProgress<'a>,
}

impl std::fmt::Debug for BlobReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BlobReader({}, {} of {:?})",
            self.url, self.done, self.total
        )
    }
}

impl<'a> BlobReader<'a> {
    /// Start downloading `digest` from `repository`.
    pub fn open(
        client: &'a Client,
        repository: &str,
        digest: &str,
        on_progress: OnProgress<'a>,
    ) -> Result<BlobReader<'a>, RegistryError> {
        let mut reader = BlobReader {
            client,
            url: format!("/v2/{repository}/blobs/{digest}"),
            scope: format!("repository:{repository}:pull"),
            body: None,
            done: 0,
            total: None,
            retries: ATTEMPTS,
            on_progress,
        };
        reader.request()?;
        Ok(reader)
    }

    // ANCHOR: request
    /// Ask for the blob from byte `done` on. A 206 goes on where the last
    /// body stopped; a 200 to a ranged request (a server that ignores
    /// `Range`) starts over, so the bytes already handed on are skipped.
    fn request(&mut self) -> Result<(), RegistryError> {
        let mut request = Request::new(Method::GET, self.url.clone(), &self.scope);
        if self.done > 0 {
            request = request.header("range", format!("bytes={}-", self.done));
        }
        let response = self.client.send(request)?;
        let status = response.status();
        let length: Option<u64> = header(&response, "content-length").and_then(|l| l.parse().ok());
        let skip = match status {
            StatusCode::OK => {
                self.total = length;
                self.done
            }
            StatusCode::PARTIAL_CONTENT if self.done > 0 => 0,
            _ => return Err(self.client.refused(response)),
        };
        let mut body = response
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader();
        if skip > 0 {
            io::copy(&mut (&mut body).take(skip), &mut io::sink()).map_err(|e| {
                RegistryError::Unreachable {
                    registry: self.client.registry().to_string(),
                    url: self.url.clone(),
                    why: e.to_string(),
                }
            })?;
        }
        self.body = Some(body);
        Ok(())
    }
    // ANCHOR_END: request

    /// The size the registry announced.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// Whether a cut (an error, or an end before the announced size) can
    /// be resumed: after a short wait, with a ranged request.
    fn resume(&mut self, why: io::Error) -> io::Result<()> {
        if self.retries == 0 {
            return Err(why);
        }
        self.retries -= 1;
        self.body = None;
        std::thread::sleep(Duration::from_millis(100) * (ATTEMPTS - self.retries));
        self.request().map_err(io::Error::other)
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(body) = self.body.as_mut() else {
                return Ok(0);
            };
            match body.read(buf) {
                Ok(0) if self.total.is_some_and(|t| self.done < t) => {
                    let cut =
                        io::Error::new(io::ErrorKind::UnexpectedEof, "the connection ended early");
                    self.resume(cut)?;
                }
                Ok(n) => {
                    self.done += n as u64;
                    (self.on_progress)(self.done, self.total);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.resume(e)?,
            }
        }
    }
}
