//! Snapshots of the tree `parse` builds from well-formed Dockerfiles.

use cratebox_dockerfile::{parse, Dockerfile};

/// The tree, or the error as text: a snapshot shows either plainly.
fn tree(text: &str) -> Result<Dockerfile, String> {
    parse(text).map_err(|e| e.to_string())
}

#[test]
fn the_notes_server_dockerfile() {
    insta::assert_debug_snapshot!(tree(
        "FROM cratebox/base\n\
         MAINTAINER Cratebox Authors <authors@example.com>\n\
         \n\
         ADD rootfs.tar /\n\
         ADD app.conf /etc/app/app.conf\n\
         ADD start.sh /usr/local/bin/\n\
         RUN ln -s /usr/local/bin/start.sh /start.sh\n\
         \n\
         EXPOSE 8080\n\
         EXPOSE 7000\n\
         CMD [\"start.sh\"]\n"
    ));
}

#[test]
fn continuations_join_lines_and_skip_comments_inside() {
    insta::assert_debug_snapshot!(tree(
        "# a comment before anything\n\
         FROM alpine:3.20\n\
         RUN apk add --no-cache \\\n\
         \x20   curl \\\n\
         # a comment between the lines of one RUN\n\
         \x20   jq \\\n\
         \n\
         \x20   tar\n\
         \x20 run echo lowercase keywords work   \n\
         ENV PATH=/opt/bin:$PATH \\\n\
         \x20   MODE=prod\n"
    ));
}

#[test]
fn the_escape_directive_makes_backtick_the_continuation() {
    insta::assert_debug_snapshot!(tree(
        "# escape=`\n\
         \n\
         FROM mcr.microsoft.com/windows/servercore\n\
         COPY testfile.txt c:\\\n\
         RUN dir c:\\ `\n\
         \x20   && echo done\n"
    ));
}

#[test]
fn the_syntax_directive_is_accepted_and_ignored() {
    insta::assert_debug_snapshot!(tree(
        "# syntax=docker/dockerfile:1\n# escape=\\\nFROM scratch\n"
    ));
}

#[test]
fn exec_form_needs_a_valid_json_array_of_strings() {
    insta::assert_debug_snapshot!(tree(
        "FROM alpine\n\
         RUN [\"echo\", \"exec form\"]\n\
         RUN [\"echo\", shell form because this is not JSON]\n\
         RUN echo shell form with $HOME left for the shell\n\
         CMD [\"--port\", \"8080\"]\n\
         ENTRYPOINT [\"/bin/server\"]\n\
         ENTRYPOINT []\n\
         CMD server --port 8080\n\
         SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n"
    ));
}

#[test]
fn env_label_and_arg_forms() {
    insta::assert_debug_snapshot!(tree(
        "ARG VERSION=3.20\n\
         ARG VARIANT\n\
         FROM alpine:${VERSION}\n\
         ENV MODE=prod GREETING=\"hello world\" QUOTED='$NOT_EXPANDED' SPACE=a\\ b\n\
         ENV LEGACY the rest of the line,  blanks and all\n\
         LABEL org.opencontainers.image.title=\"cratebox demo\" version=1\n\
         ARG USER=app GROUP\n\
         WORKDIR /home/$USER\n\
         USER $USER:$GROUP\n\
         VOLUME /data /logs\n\
         VOLUME [\"/with space\"]\n\
         EXPOSE 53/udp 8000-8010/tcp $PORT\n\
         STOPSIGNAL SIGINT\n"
    ));
}

#[test]
fn multi_stage_copy_from_an_earlier_stage() {
    insta::assert_debug_snapshot!(tree(
        "FROM --platform=linux/amd64 rust:1.80 AS Build\n\
         WORKDIR /src\n\
         COPY Cargo.toml Cargo.lock ./\n\
         COPY [\"src dir\", \"./src\"]\n\
         RUN cargo build --release\n\
         \n\
         FROM debian:12-slim as runtime\n\
         COPY --from=build --chown=app:app --chmod=0755 /src/target/release/app /usr/local/bin/app\n\
         ENTRYPOINT [\"/usr/local/bin/app\"]\n"
    ));
}
