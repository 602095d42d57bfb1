//! # cratebox-registry: pull and push over the OCI distribution protocol
