//! The only place irsa-lint writes a file: the one `--write-baseline` or `-o` names, never
//! anything in the scanned tree unless the user names it there.
//!
//! The named path is written as a regular file or not at all: a symbolic link (which could
//! point anywhere, planted by whoever controls the tree) or a FIFO, device or directory is
//! refused with an error, and on Unix the open itself refuses to follow a link that appears
//! between the check and the open.

// clippy.toml forbids opening files for writing everywhere else.
#![allow(clippy::disallowed_methods)]

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Create or replace `path` with `bytes`.
pub fn regular_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(refused(
                "is a symbolic link; irsa-lint writes no file through a link",
            ));
        }
        Ok(meta) if !meta.is_file() => {
            return Err(refused("exists and is not a regular file"));
        }
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A link or FIFO swapped in after the check above fails here instead of being
        // followed or blocking.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let mut file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(refused("is not a regular file"));
    }
    file.write_all(bytes)?;
    file.flush()
}

fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.sarif");
        regular_file(&path, b"first, longer").unwrap();
        regular_file(&path, b"second").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "second");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symbolic_link_and_leaves_its_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.txt");
        regular_file(&target, b"keep me").unwrap();
        let link = dir.path().join("report.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = regular_file(&link, b"overwritten").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
    }

    #[test]
    fn refuses_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let err = regular_file(dir.path(), b"x").unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}
