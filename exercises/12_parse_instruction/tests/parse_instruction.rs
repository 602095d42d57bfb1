//! Exercise 12's tests: a table of lines with what each becomes, the same
//! instructions as cratebox's own parser, and errors where it refuses too.

#[cfg(not(feature = "solution"))]
use ex12_parse_instruction as subject;
#[cfg(feature = "solution")]
#[path = "../../solutions/12_parse_instruction.rs"]
mod subject;

use cratebox_dockerfile as real;
use subject::{parse_instruction, Form, Instruction, ParseError};

/// Lines both parsers accept, in every form the exercise asks for.
const GOOD: &[&str] = &[
    "FROM alpine",
    "from alpine:3.20",
    "FROM golang:1.22 AS build",
    "FROM golang:1.22 as Build",
    "RUN apt-get update && apt-get install -y curl",
    "run echo hi # the shell's, not a comment",
    r#"RUN ["make", "all"]"#,
    r#"RUN ["echo", "two words"]"#,
    // Not JSON (`all` has no quotes), so it is a shell command after all.
    r#"RUN ["make", all]"#,
    r#"CMD ["nginx", "-g", "daemon off;"]"#,
    "CMD []",
    "CMD echo $HOME",
    r#"Entrypoint ["/docker-entrypoint.sh"]"#,
    "ENTRYPOINT exec nginx",
    "COPY . /app",
    "COPY a.txt b.txt /dest/",
    r#"COPY ["my file.txt", "/dest/"]"#,
    "ENV PATH=/usr/local/bin:$PATH",
    "ENV A=1 B=2",
    r#"ENV GREETING="hello world" NAME='x y'"#,
    r"ENV DIR=my\ dir EMPTY=",
    "EXPOSE 80",
    "expose 80/tcp 53/udp 8000-8010",
    "EXPOSE $PORT",
    "   RUN    make   ",
    "COPY\tsrc\t/dst",
];

/// Lines both parsers refuse.
const BAD: &[&str] = &[
    "RUNN echo hi",
    "FORM alpine",
    "FROM",
    "FROM alpine ubuntu",
    "FROM golang AS",
    "FROM golang LIKE build",
    "RUN",
    "RUN []",
    "CMD",
    r#"CMD ["sleep", 5]"#,
    "ENTRYPOINT",
    "COPY",
    "COPY only-one",
    r#"COPY ["only-one"]"#,
    r#"COPY ["a", 1, "/b"]"#,
    "ENV",
    "ENV NAME",
    "ENV A=1 B",
    "ENV =x",
    "EXPOSE",
];

/// One entry per line: the line, then the instruction or the error.
fn table(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|line| match parse_instruction(line) {
            Ok(instruction) => format!("{line:?}\n    {instruction:?}\n"),
            Err(error) => format!("{line:?}\n    error: {error}\n"),
        })
        .collect()
}

/// The exercise's form of one of cratebox's forms.
fn form(form: &real::Form) -> Form {
    match form {
        real::Form::Shell(line) => Form::Shell(line.clone()),
        real::Form::Exec(args) => Form::Exec(args.clone()),
    }
}

/// What cratebox's parser makes of `line`, in the exercise's types. A line
/// that is not FROM gets a `FROM scratch` above it, since a Dockerfile must
/// start with one.
fn cratebox(line: &str) -> Result<Instruction, real::ParseError> {
    let keyword = line.split_whitespace().next().unwrap_or("");
    if keyword.eq_ignore_ascii_case("FROM") {
        let file = real::parse(line)?;
        let from = &file.stages[0].from;
        assert_eq!(from.platform, None, "no --platform in these lines");
        return Ok(Instruction::From {
            image: from.image.clone(),
            name: from.name.clone(),
        });
    }
    let file = real::parse(&format!("FROM scratch\n{line}\n"))?;
    let step = &file.stages[0].steps[0];
    Ok(match &step.instruction {
        real::Instruction::Run(f) => Instruction::Run(form(f)),
        real::Instruction::Cmd(f) => Instruction::Cmd(form(f)),
        real::Instruction::Entrypoint(f) => Instruction::Entrypoint(form(f)),
        real::Instruction::Copy(files) => {
            assert_eq!(
                (&files.from, &files.chown, &files.chmod),
                (&None, &None, &None),
                "no flags in these lines"
            );
            Instruction::Copy {
                sources: files.sources.clone(),
                destination: files.destination.clone(),
            }
        }
        real::Instruction::Env(pairs) => Instruction::Env(pairs.clone()),
        real::Instruction::Expose(ports) => Instruction::Expose(ports.clone()),
        other => panic!("{line:?} is {other:?}, which the exercise does not have"),
    })
}

#[test]
fn each_line_and_what_it_becomes() {
    insta::assert_snapshot!(table(GOOD));
}

#[test]
fn lines_that_are_not_instructions() {
    insta::assert_snapshot!(table(BAD));
}

#[test]
fn agrees_with_cratebox_on_good_lines() {
    for line in GOOD {
        let theirs = cratebox(line).expect("cratebox parses it");
        assert_eq!(parse_instruction(line), Ok(theirs), "line {line:?}");
    }
}

#[test]
fn refuses_what_cratebox_refuses() {
    for line in BAD {
        assert!(cratebox(line).is_err(), "cratebox refuses {line:?}");
        assert!(parse_instruction(line).is_err(), "line {line:?}");
    }
}

#[test]
fn an_unknown_keyword_is_named_as_written() {
    for keyword in ["RUNN", "Form", "HEALTHCHECK", "cp"] {
        let line = format!("{keyword} some arguments");
        assert_eq!(
            parse_instruction(&line),
            Err(ParseError::Unknown(keyword.to_string())),
            "line {line:?}"
        );
    }
}

#[test]
fn keywords_are_case_insensitive() {
    let expected = parse_instruction("RUN make");
    assert_eq!(expected, Ok(Instruction::Run(Form::Shell("make".into()))));
    for line in ["run make", "Run make", "rUn make"] {
        assert_eq!(parse_instruction(line), expected, "line {line:?}");
    }
}
