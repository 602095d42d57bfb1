//! Snapshots of what `parse` says about malformed Dockerfiles: each error
//! names the line and column, and what was expected there.

use cratebox_dockerfile::parse;

/// Malformed inputs, each with a note on what is wrong with it.
const CASES: &[(&str, &str)] = &[
    (
        "no source",
        "FROM alpine\nWORKDIR /app\nRUN true\nCOPY /only-one\n",
    ),
    ("no instructions at all", "# just a comment\n\n"),
    ("RUN before FROM", "ARG X\nRUN echo hi\nFROM alpine\n"),
    ("a misspelled instruction", "FROM alpine\n  RUNN echo hi\n"),
    (
        "HEALTHCHECK of an unknown kind",
        "FROM alpine\nHEALTHCHECK CONNECT TCP 7000\n",
    ),
    (
        "HEALTHCHECK CMD with nothing to run",
        "FROM alpine\nHEALTHCHECK --interval=5s CMD\n",
    ),
    ("FROM with two words", "FROM alpine build\n"),
    ("a stage name with a slash", "FROM alpine AS my/stage\n"),
    (
        "a stage name used twice",
        "FROM alpine AS a\nFROM alpine AS a\n",
    ),
    ("ADD takes no --from", "FROM alpine\nADD --from=build a b\n"),
    ("a flag without a value", "FROM alpine\nCOPY --chown a b\n"),
    (
        "RUN --mount is not supported",
        "FROM alpine\nRUN --mount=type=cache,target=/x make\n",
    ),
    (
        "exec form with a number",
        "FROM alpine\nCMD [\"sleep\", 5]\n",
    ),
    ("SHELL in shell form", "FROM alpine\nSHELL /bin/bash -c\n"),
    ("ENV mixing the two forms", "FROM alpine\nENV A=1 B 2\n"),
    ("ENV with a name only", "FROM alpine\nENV LONELY\n"),
    ("ENV with an empty name", "FROM alpine\nENV =x\n"),
    (
        "a bad port, on a continued line",
        "FROM alpine\nEXPOSE 80 \\\n  443/tcp 99999\n",
    ),
    ("an unknown protocol", "FROM alpine\nEXPOSE 80/http\n"),
    (
        "STOPSIGNAL with two words",
        "FROM alpine\nSTOPSIGNAL SIGTERM SIGKILL\n",
    ),
    ("an empty VOLUME path", "FROM alpine\nVOLUME [\"\"]\n"),
    ("a bad escape directive", "# escape=x\nFROM alpine\n"),
    (
        "a directive twice",
        "# escape=`\n# escape=\\\nFROM alpine\n",
    ),
    ("RUN with nothing", "FROM alpine\nRUN\n"),
    ("WORKDIR with nothing", "FROM alpine\nWORKDIR   \n"),
    (
        "a heredoc, named before its body is read as instructions",
        "FROM alpine\nRUN cat <<EOF > /motd\nhello\nEOF\n",
    ),
    (
        "a heredoc in COPY",
        "FROM alpine\nCOPY <<-EOT /etc/app.conf\n\tkey=value\nEOT\n",
    ),
    ("ONBUILD with nothing", "FROM alpine\nONBUILD\n"),
    ("ONBUILD ONBUILD", "FROM alpine\nONBUILD ONBUILD RUN make\n"),
    ("ONBUILD FROM", "FROM alpine\nonbuild from scratch\n"),
    ("ONBUILD MAINTAINER", "FROM alpine\nONBUILD MAINTAINER me\n"),
    (
        "a bad trigger, pointed at inside the ONBUILD line",
        "FROM alpine\nONBUILD COPY \\\n    only-one\n",
    ),
    (
        "ONBUILD takes no flags",
        "FROM alpine\nONBUILD --x RUN make\n",
    ),
    ("ONBUILD before FROM", "ONBUILD RUN make\nFROM alpine\n"),
];

#[test]
fn malformed_dockerfiles_are_reported_with_line_and_column() {
    let report: Vec<String> = CASES
        .iter()
        .map(|(what, text)| match parse(text) {
            Ok(tree) => format!("{what}: unexpectedly parsed: {tree:?}"),
            Err(e) => format!("{what}:\n    {e}"),
        })
        .collect();
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn the_error_position_is_also_in_the_fields() {
    let error = parse("FROM alpine\nWORKDIR /app\n    COPY\n").err();
    let position = error.map(|e| (e.line, e.column));
    assert_eq!(position, Some((3, 9)));
}
