//! Docker's own parser tests, run against cratebox.
//!
//! The inputs and results here are facts taken from the reference parser's
//! test data: moby/buildkit's `frontend/dockerfile/parser/testfiles/*/`
//! (each a `Dockerfile` and the `result` docker's parser dumps for it), the
//! error cases of its `parser_test.go` and `instructions/parse_test.go`,
//! and, for variable expansion, the `envVarTest` table and the
//! `TestProcessWithMatches` cases of the shell lexer (moby's
//! `builder/dockerfile/shell`, now buildkit's `frontend/dockerfile/shell`).
//! The code that runs them is cratebox's own.
//!
//! Docker's parser dumps one `(instruction "word" ...)` per instruction,
//! each word quoted as Go quotes strings. [`dump`] writes cratebox's tree
//! the same way, so a case compares docker's text with ours. Where cratebox
//! refuses on purpose what docker accepts ([`LEFT_OUT`],
//! [`MODIFIERS_LEFT_OUT`]), the test checks the refusal instead: one line,
//! naming what is left out.

use cratebox_dockerfile::{expand, parse, parse_trigger, Dockerfile, Files, Form, Instruction};

#[path = "docker_cases/env_var_test.rs"]
mod env_var_test;
#[path = "docker_cases/testfiles.rs"]
mod testfiles;

use env_var_test::ENV_VAR_TEST;
use testfiles::SAME_AS_DOCKER;

/// Lines docker refuses, in its parser or when it turns the parsed line
/// into an instruction; cratebox must refuse each too. Each is the last
/// line after a `FROM scratch`, with docker's error.
const REFUSED_BY_BOTH: &[(&str, &str)] = &[
    // testfiles-negative
    (r#"CMD [ "echo", [ "nested json" ] ]"#, "when using JSON array syntax, arrays must be comprised of strings only"),
    ("ENV PATH", "ENV must have two arguments"),
    // instructions/parse_test.go: TestErrorCases
    ("COPY\t\n\t\tquux \\\n      bar", "COPY requires at least two arguments"),
    ("ONBUILD FROM scratch", "FROM isn't allowed as an ONBUILD trigger"),
    ("MAINTAINER --boo joe@example.com", "unknown flag: boo"),
    ("ONBUILD ONBUILD RUN touch foobar", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
    ("FOO bar", "unknown instruction: FOO"),
    ("foo bar", "unknown instruction: foo"),
    // TestCommandsExactlyOneArgument
    ("MAINTAINER", "MAINTAINER requires exactly one argument"),
    ("WORKDIR", "WORKDIR requires exactly one argument"),
    ("USER", "USER requires exactly one argument"),
    ("STOPSIGNAL", "STOPSIGNAL requires exactly one argument"),
    // TestCommandsAtLeastOneArgument
    ("ENV", "ENV requires at least one argument"),
    ("LABEL", "LABEL requires at least one argument"),
    ("ONBUILD", "ONBUILD requires at least one argument"),
    ("EXPOSE", "EXPOSE requires at least one argument"),
    ("VOLUME", "VOLUME requires at least one argument"),
    // TestCommandsNoDestinationArgument
    ("ADD arg1", "ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
    ("COPY arg1", "COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
    // testfiles/flags: the parser keeps unknown flags, the instruction refuses them
    ("COPY --user=me foo /tmp/", "unknown flag: user"),
    (r#"CMD --doit [ "a", "b" ]"#, "unknown flag: doit"),
];

/// What docker accepts and cratebox leaves out on purpose, with the word
/// the refusal must name.
const LEFT_OUT: &[(&str, &str)] = &[
    // testfiles/health: docker refuses it too (no such check type)
    ("HEALTHCHECK", "HEALTHCHECK CONNECT TCP 7000"),
    // instructions/parse_test.go: TestRunCmdFlagsUsed
    ("--mount", "RUN --mount=type=tmpfs,target=/foo/ echo hello"),
    // heredocs, as parser_heredoc_test.go writes them
    ("<<EOF", "RUN <<EOF\necho hello world\nEOF"),
    ("<<-EOF", "RUN <<-EOF\n\techo hello\n\tEOF"),
    ("3<<IN", "RUN 3<<IN cat /proc/self/fd/3\nhello\nIN"),
    ("<<EOF", "COPY <<EOF /dest\ncontent\nEOF"),
    ("<<\"EOF\"", "RUN <<\"EOF\" bash\necho $HOME\nEOF"),
    ("<<EOF", "ONBUILD RUN <<EOF\necho later\nEOF"),
];

/// Words from the shell lexer's `TestProcessWithMatches` and
/// `TestProcessWithMatchesPlatform`, with the variables set for each and
/// what docker expands them to (`None`: an error).
/// The variables set for a word: name and value.
type Vars = &'static [(&'static str, &'static str)];

const EXPANSIONS: &[(&str, Vars, Option<&str>)] = &[
    ("x", &[("DUMMY", "dummy")], Some("x")),
    ("x ${UNUSED}", &[("DUMMY", "dummy")], Some("x ")),
    ("x ${FOO}", &[("FOO", "y")], Some("x y")),
    (
        "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}",
        &[("FOO", "xxx"), ("BAR", "")],
        Some("xxx  ccc"),
    ),
    (
        "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}",
        &[("FOO", "xxx"), ("BAR", "")],
        Some("xxx bbb ccc"),
    ),
    ("${FOO:-}", &[("FOO", "xxx"), ("BAR", "")], Some("xxx")),
    ("${FOO:-}", &[], Some("")),
    (
        "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}",
        &[("FOO", "xxx"), ("BAR", "")],
        Some("aaa bbb "),
    ),
    (
        "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}",
        &[("FOO", "xxx"), ("BAR", "")],
        Some("aaa  "),
    ),
    ("${FOO=aaa}", &[("FOO", "xxx"), ("BAR", "")], None),
    ("${FOO=:aaa}", &[("FOO", "xxx"), ("BAR", "")], None),
    ("${FOO=}", &[], None),
    (
        "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
        &[
            ("VERSION", "v1.2.3"),
            ("TARGETOS", "linux"),
            ("TARGETARCH", "arm"),
            ("TARGETVARIANT", "v7"),
        ],
        Some("something-v1.2.3.linux-arm-v7.tar.gz"),
    ),
    (
        "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
        &[
            ("VERSION", "v1.2.3"),
            ("TARGETOS", "linux"),
            ("TARGETARCH", "arm64"),
            ("TARGETVARIANT", ""),
        ],
        Some("something-v1.2.3.linux-arm64.tar.gz"),
    ),
    (
        "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz",
        &[
            ("VERSION", "v1.2.3"),
            ("TARGETOS", "linux"),
            ("TARGETARCH", "arm64"),
        ],
        Some("something-v1.2.3.linux-arm64.tar.gz"),
    ),
];

/// Modifiers docker's newer frontends expand and cratebox leaves out (see
/// `expand.rs`), from the same test, with what docker gives: each must be
/// an error that names the modifier, in one line.
const MODIFIERS_LEFT_OUT: &[(&str, &str, Vars, &str)] = &[
    ("?", "${FOO?aaa}", &[("FOO", "xxx")], "xxx"),
    (":?", "${BAR:?bbb}", &[("BAR", "")], "error: BAR: bbb"),
    ("#", "${FOO#*x*y}", &[("FOO", "xxyy")], "y"),
    ("##", "${FOO##*x}", &[("FOO", "xxyy")], "yy"),
    ("%%", "${FOO%%\\**}", &[("FOO", "xx**")], "xx"),
    (
        "/",
        "${FOO/$NEEDLE/$REPLACEMENT}",
        &[
            ("FOO", "http://google.de"),
            ("NEEDLE", "http://"),
            ("REPLACEMENT", "https://"),
        ],
        "https://google.de",
    ),
    (
        "//",
        "${FOO//\\//\\/}",
        &[("FOO", "/tmp/foo.txt")],
        "\\/tmp\\/foo.txt",
    ),
];

/// `set` as `expand` wants it: unset unless listed.
fn lookup(set: Vars) -> impl Fn(&str) -> Option<String> {
    move |name| {
        set.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }
}

/// The tree in docker's dump format, one instruction a line.
fn dump(file: &Dockerfile) -> String {
    let mut lines = Vec::new();
    for (_, arg) in &file.global_args {
        lines.push(format!("(arg {})", quote(&arg_word(arg))));
    }
    for stage in &file.stages {
        let mut words = Vec::new();
        if let Some(platform) = &stage.from.platform {
            words.push(flags(&[format!("--platform={platform}")]));
        }
        words.push(quote(&stage.from.image));
        if let Some(name) = &stage.from.name {
            words.push(quote("AS"));
            words.push(quote(name));
        }
        lines.push(format!("(from {})", words.join(" ")));
        for step in &stage.steps {
            lines.push(format!("({})", node(&step.instruction)));
        }
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// One instruction: its lowercase keyword and its words.
fn node(instruction: &Instruction) -> String {
    let (keyword, words): (&str, Vec<String>) = match instruction {
        Instruction::Run(form) => ("run", form_words(form)),
        Instruction::Cmd(form) => ("cmd", form_words(form)),
        Instruction::Entrypoint(form) => ("entrypoint", form_words(form)),
        Instruction::Copy(files) => ("copy", files_words(files)),
        Instruction::Add(files) => ("add", files_words(files)),
        Instruction::Env(pairs) => ("env", pair_words(pairs)),
        Instruction::Label(pairs) => ("label", pair_words(pairs)),
        Instruction::Arg(args) => ("arg", args.iter().map(|a| quote(&arg_word(a))).collect()),
        Instruction::Workdir(w) => ("workdir", vec![quote(w)]),
        Instruction::User(w) => ("user", vec![quote(w)]),
        Instruction::Maintainer(w) => ("maintainer", vec![quote(w)]),
        Instruction::StopSignal(w) => ("stopsignal", vec![quote(w)]),
        Instruction::Healthcheck(check) => {
            let mut words: Vec<String> = [
                ("interval", &check.interval),
                ("timeout", &check.timeout),
                ("start-period", &check.start_period),
                ("retries", &check.retries),
            ]
            .iter()
            .filter_map(|(flag, value)| value.as_ref().map(|v| format!("--{flag}={v}")))
            .collect();
            match &check.test {
                Some(form) => {
                    words.push(quote("CMD"));
                    words.extend(form_words(form));
                }
                None => words.push(quote("NONE")),
            }
            ("healthcheck", words)
        }
        Instruction::Expose(list) => ("expose", list.iter().map(|w| quote(w)).collect()),
        Instruction::Volume(list) => ("volume", list.iter().map(|w| quote(w)).collect()),
        Instruction::Shell(list) => ("shell", list.iter().map(|w| quote(w)).collect()),
        Instruction::Onbuild(trigger) => {
            // The trigger must also read back from its text as it parsed.
            let again = parse_trigger(&trigger.text);
            let inner = match again {
                Ok(ref back) if back == trigger.instruction.as_ref() => node(back),
                _ => format!("trigger {:?} reads back as {again:?}", trigger.text),
            };
            ("onbuild", vec![format!("({inner})")])
        }
    };
    std::iter::once(keyword.to_string())
        .chain(words)
        .collect::<Vec<_>>()
        .join(" ")
}

fn form_words(form: &Form) -> Vec<String> {
    match form {
        Form::Shell(line) => vec![quote(line)],
        Form::Exec(argv) => argv.iter().map(|w| quote(w)).collect(),
    }
}

fn files_words(files: &Files) -> Vec<String> {
    let given = [
        ("from", &files.from),
        ("chown", &files.chown),
        ("chmod", &files.chmod),
    ];
    let set: Vec<String> = given
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("--{name}={v}")))
        .collect();
    let mut words = Vec::new();
    if !set.is_empty() {
        words.push(flags(&set));
    }
    words.extend(files.sources.iter().map(|w| quote(w)));
    words.push(quote(&files.destination));
    words
}

fn pair_words(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|(k, v)| [quote(k), quote(v)])
        .collect()
}

/// ARG keeps `name=default` as one word, as written.
fn arg_word(arg: &cratebox_dockerfile::Arg) -> String {
    match &arg.default {
        Some(default) => format!("{}={default}", arg.name),
        None => arg.name.clone(),
    }
}

/// Flags, dumped as Go prints a list of strings: `["--a=1" "--b=2"]`.
fn flags(list: &[String]) -> String {
    let quoted: Vec<String> = list.iter().map(|f| quote(f)).collect();
    format!("[{}]", quoted.join(" "))
}

/// A string quoted as Go's `strconv.Quote` does it.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if u32::from(c) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", u32::from(c)));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn docker_parser_cases_parse_to_dockers_results() {
    let mut differ = Vec::new();
    for case in SAME_AS_DOCKER {
        let ours = match parse(case.dockerfile) {
            Ok(tree) => dump(&tree),
            Err(e) => format!("error: {e}\n"),
        };
        if ours != case.docker {
            differ.push(format!(
                "{} ({}):\n--- docker\n{}--- cratebox\n{ours}",
                case.name, case.source, case.docker
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn what_docker_refuses_cratebox_refuses() {
    let report: Vec<String> = REFUSED_BY_BOTH
        .iter()
        .map(|(line, docker)| {
            let text = format!("FROM scratch\n{line}\n");
            let ours = match parse(&text) {
                Ok(tree) => panic!("{line:?} parsed, but docker refuses it: {}", dump(&tree)),
                Err(e) => e.to_string(),
            };
            format!("{line:?}\n    docker:   {docker}\n    cratebox: {ours}")
        })
        .collect();
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn what_cratebox_leaves_out_is_refused_in_one_line_naming_it() {
    let mut report = Vec::new();
    for (name, line) in LEFT_OUT {
        let text = format!("FROM scratch\n{line}\n");
        let message = match parse(&text) {
            Ok(tree) => panic!(
                "{line:?} parsed, but cratebox leaves it out: {}",
                dump(&tree)
            ),
            Err(e) => e.to_string(),
        };
        assert!(!message.contains('\n'), "{message:?} is more than one line");
        assert!(message.contains(name), "{message:?} does not name {name}");
        report.push(format!("{line:?}\n    {message}"));
    }
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn words_expand_as_dockers_shell_lexer_expands_them() {
    let vars = |name: &str| match name {
        "PWD" => Some("/home".to_string()),
        "SHELL" => Some("bash".to_string()),
        "KOREAN" => Some("한국어".to_string()),
        _ => None,
    };
    let mut checked = 0;
    let mut differ = Vec::new();
    for line in ENV_VAR_TEST.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('|').collect();
        let [platform, word, expected] = fields.as_slice() else {
            panic!("{line:?} is not PLATFORM|WORD|RESULT");
        };
        if platform.trim() == "W" {
            continue;
        }
        let (word, expected) = (word.trim(), expected.trim());
        let ours = expand(word, &vars, '\\');
        let same = match (&ours, expected) {
            (Err(_), "error") => true,
            (Ok(value), expected) => value == expected,
            (Err(_), _) => false,
        };
        if !same {
            differ.push(format!(
                "{word:<28} docker: {expected:<14} cratebox: {ours:?}"
            ));
        }
        checked += 1;
    }
    assert!(checked > 100, "only {checked} cases read");
    assert!(differ.is_empty(), "\n{}", differ.join("\n"));
}

#[test]
fn modifiers_expand_as_docker_expands_them() {
    let mut differ = Vec::new();
    for (word, set, docker) in EXPANSIONS {
        let vars = lookup(set);
        let ours = expand(word, &vars, '\\').ok();
        if ours.as_deref() != *docker {
            differ.push(format!(
                "{word} with {set:?}: docker {docker:?}, cratebox {ours:?}"
            ));
        }
    }
    assert!(differ.is_empty(), "\n{}", differ.join("\n"));
}

#[test]
fn modifiers_cratebox_leaves_out_are_refused_in_one_line_naming_them() {
    let mut report = Vec::new();
    for (modifier, word, set, docker) in MODIFIERS_LEFT_OUT {
        let vars = lookup(set);
        let message = match expand(word, &vars, '\\') {
            Ok(value) => panic!("{word} expanded to {value:?}, but cratebox leaves {modifier} out"),
            Err(e) => e.to_string(),
        };
        assert!(!message.contains('\n'), "{message:?} is more than one line");
        assert!(
            message.contains(&format!("{modifier:?}")),
            "{message:?} does not name {modifier}"
        );
        report.push(format!(
            "{word}\n    docker:   {docker}\n    cratebox: {message}"
        ));
    }
    insta::assert_snapshot!(report.join("\n"));
}
