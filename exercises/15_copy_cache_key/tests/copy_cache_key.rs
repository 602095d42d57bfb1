//! Exercise 15's tests: the checksum of a small build context and of every
//! kind of change to it, the cache keys built on it, and the very digests
//! cratebox's builder computes.

#[cfg(not(feature = "solution"))]
use ex15_copy_cache_key as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/15_copy_cache_key.rs"]
mod subject;

use cratebox_image::digest::Digest;
use subject::{cache_key, checksum, EntryKind, SourceEntry};

/// The owner of the files: a user's checkout, not root's.
const USER: u32 = 1000;

fn file(path: &str, mode: u32, content: &str) -> SourceEntry {
    let sha256 = Digest::of(content.as_bytes()).hex().to_string();
    entry(path, EntryKind::File { sha256 }, mode)
}

fn dir(path: &str) -> SourceEntry {
    entry(path, EntryKind::Dir, 0o755)
}

fn symlink(path: &str, target: &str) -> SourceEntry {
    let target = target.to_string();
    entry(path, EntryKind::Symlink { target }, 0o777)
}

fn entry(path: &str, kind: EntryKind, mode: u32) -> SourceEntry {
    SourceEntry {
        path: path.to_string(),
        kind,
        mode,
        uid: USER,
        gid: USER,
    }
}

/// What `COPY app /app` reads: a small Python app, in the order a
/// directory walk might find it.
fn context() -> Vec<SourceEntry> {
    vec![
        dir("app"),
        file("app/main.py", 0o644, "print('hello')\n"),
        file("app/run.sh", 0o755, "#!/bin/sh\nexec python3 main.py\n"),
        symlink("app/latest", "main.py"),
        dir("app/static"),
        file("app/static/style.css", 0o644, "body { margin: 0 }\n"),
    ]
}

/// The context with the entry at `path` changed by `change`.
fn with(path: &str, change: impl FnOnce(&mut SourceEntry)) -> Vec<SourceEntry> {
    let mut entries = context();
    let entry = entries
        .iter_mut()
        .find(|e| e.path == path)
        .expect("the path is in the context");
    change(entry);
    entries
}

/// The context as it was read, then read again after each kind of change,
/// and whether the copy, hence the checksum, must be the same.
fn cases() -> Vec<(&'static str, Vec<SourceEntry>, bool)> {
    let mut reversed = context();
    reversed.reverse();
    let mut rotated = context();
    rotated.rotate_left(2);
    let mut removed = context();
    removed.retain(|e| e.path != "app/static/style.css");
    let mut added = context();
    added.push(file("app/README", 0o644, "hello\n"));
    vec![
        ("the context as read", context(), true),
        // There is no mtime in a SourceEntry: a `touch` or a fresh clone
        // changes nothing the checksum sees, so it reads the same entries.
        ("after a touch of every file", context(), true),
        ("read in reverse order", reversed, true),
        ("read in another order", rotated, true),
        (
            "main.py's mode with its file type bits, 0o100644",
            with("app/main.py", |e| e.mode = 0o100_644),
            true,
        ),
        (
            "main.py edited",
            with("app/main.py", |e| {
                e.kind = file("", 0, "print('hello, world')\n").kind;
            }),
            false,
        ),
        (
            "run.sh no longer executable",
            with("app/run.sh", |e| e.mode = 0o644),
            false,
        ),
        (
            "run.sh setuid",
            with("app/run.sh", |e| e.mode = 0o4755),
            false,
        ),
        (
            "main.py owned by root",
            with("app/main.py", |e| e.uid = 0),
            false,
        ),
        (
            "main.py in group 0",
            with("app/main.py", |e| e.gid = 0),
            false,
        ),
        (
            "main.py renamed to app.py",
            with("app/main.py", |e| e.path = "app/app.py".into()),
            false,
        ),
        (
            "latest points to run.sh",
            with("app/latest", |e| {
                e.kind = EntryKind::Symlink {
                    target: "run.sh".into(),
                };
            }),
            false,
        ),
        (
            "latest a copy of main.py, not a link",
            with("app/latest", |e| {
                *e = file("app/latest", 0o777, "print('hello')\n");
            }),
            false,
        ),
        ("style.css removed", removed, false),
        ("README added", added, false),
    ]
}

#[test]
fn checksums_of_the_context_and_its_changes() {
    let base = checksum(&context());
    let mut text = String::new();
    for (what, entries, same) in cases() {
        let sum = checksum(&entries);
        let expected = if same { "the same" } else { "different" };
        assert_eq!(sum == base, same, "{what}: the checksum must be {expected}");
        let mark = if sum == base { "same" } else { "differs" };
        text += &format!("{what:<50} {mark:<7} {sum}\n");
    }
    text += &format!("{:<58} {}\n", "nothing at all", checksum(&[]));
    insta::assert_snapshot!(text);
}

/// What `alpine` and `debian` stand for here: the image a step starts from.
fn parent(name: &str) -> Digest {
    Digest::of(name.as_bytes())
}

#[test]
fn cache_keys_of_some_steps() {
    let sources = checksum(&context());
    let edited = checksum(&with("app/main.py", |e| {
        e.kind = file("", 0, "print('hello, world')\n").kind;
    }));
    let steps: Vec<(&str, &str, Option<&Digest>)> = vec![
        ("alpine", "COPY app /app", Some(&sources)),
        ("alpine", "COPY app /app", Some(&edited)),
        ("alpine", "COPY app /srv", Some(&sources)),
        ("debian", "COPY app /app", Some(&sources)),
        ("alpine", "RUN pip install flask", None),
        ("debian", "RUN pip install flask", None),
    ];
    let mut text = String::new();
    let mut keys = Vec::new();
    for (image, instruction, sources) in steps {
        let key = cache_key(&parent(image), instruction, sources);
        let sources = sources.map_or("-".to_string(), |s| s.short().to_string());
        text += &format!("{image:<7} {instruction:<22} {sources:<13} {key}\n");
        keys.push(key);
    }
    insta::assert_snapshot!(text);
    for (i, key) in keys.iter().enumerate() {
        assert!(!keys[..i].contains(key), "every step above has its own key");
    }
}

/// The records of the documented format, written out by hand, for the
/// first four entries of the context.
#[test]
fn the_format_by_hand() {
    let main = Digest::of(b"print('hello')\n");
    let run = Digest::of(b"#!/bin/sh\nexec python3 main.py\n");
    let records = format!(
        "app\0dir\0755\01000\01000\0\0\
         app/latest\0symlink\0777\01000\01000\0main.py\0\
         app/main.py\0file\0644\01000\01000\0{}\0\
         app/run.sh\0file\0755\01000\01000\0{}\0",
        main.hex(),
        run.hex()
    );
    assert_eq!(checksum(&context()[..4]), Digest::of(records.as_bytes()));
    assert_eq!(checksum(&[]), Digest::of(b""));

    let parent = parent("alpine");
    let sources = checksum(&context());
    assert_eq!(
        cache_key(&parent, "COPY app /app", Some(&sources)),
        Digest::of(format!("{parent}\nCOPY app /app\n{sources}").as_bytes())
    );
    assert_eq!(
        cache_key(&parent, "RUN make", None),
        Digest::of(format!("{parent}\nRUN make\n").as_bytes())
    );
    // No sources is not the same as sources that are empty.
    assert_ne!(
        cache_key(&parent, "COPY empty /", None),
        cache_key(&parent, "COPY empty /", Some(&checksum(&[])))
    );
}

/// The digests that `cratebox_builder::checksum::checksum` and `cache_key`
/// give for [`context`], for the step `COPY app /app` on `alpine`, and for
/// `RUN pip install flask` on `alpine`. They are written out here rather
/// than computed by depending on `cratebox-builder`: that crate is the whole
/// image builder (registry downloads, TLS, tar and compression libraries),
/// far more than these two functions, and every exercise build would wait
/// for it. The crate's own test `same_digests_as_exercise_15` computes the
/// same three, so a change of format there fails until these follow.
const CRATEBOX_CHECKSUM: &str =
    "sha256:a57da1e64da63446b114337b0a8c70e80f3070656228fea1b2c05b794ba458fc";
const CRATEBOX_COPY_KEY: &str =
    "sha256:f8fbca8eed78b232abbcd553cc6af974e099cde8bcfd457e7168a28585dc4605";
const CRATEBOX_RUN_KEY: &str =
    "sha256:2485d6d0ab360387c0c7ca66090c6b0104a441a47a6194a1e095b85cfa69b71f";

#[test]
fn agrees_with_cratebox() {
    let sources = checksum(&context());
    assert_eq!(sources.as_str(), CRATEBOX_CHECKSUM);
    let mut reversed = context();
    reversed.reverse();
    assert_eq!(checksum(&reversed).as_str(), CRATEBOX_CHECKSUM);
    let parent = parent("alpine");
    let copy = cache_key(&parent, "COPY app /app", Some(&sources));
    assert_eq!(copy.as_str(), CRATEBOX_COPY_KEY);
    let run = cache_key(&parent, "RUN pip install flask", None);
    assert_eq!(run.as_str(), CRATEBOX_RUN_KEY);
}
