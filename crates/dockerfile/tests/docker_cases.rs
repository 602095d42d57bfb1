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

/// A reference Dockerfile and docker's dump of it.
struct Case {
    name: &'static str,
    /// Where it comes from in the reference's test data, and how it was
    /// adapted: docker's parser takes a file without FROM, cratebox does
    /// not, so such cases get a `FROM scratch` (and its line in the result).
    source: &'static str,
    dockerfile: &'static str,
    docker: &'static str,
}

const SAME_AS_DOCKER: &[Case] = &[
    Case {
        name: "continueIndent",
        source: "testfiles/continueIndent",
        dockerfile: concat!(
            "FROM ubuntu:14.04\n",
            "\n",
            "RUN echo hello\\\n",
            "  world\\\n",
            "  goodnight  \\\n",
            "  moon\\\n",
            "  light\\\n",
            "ning\n",
            "RUN echo hello  \\\n",
            "  world\n",
            "RUN echo hello  \\\n",
            "world\n",
            "RUN echo hello \\\n",
            "goodbye\\\n",
            "frog\n",
            "RUN echo hello  \\  \n",
            "world\n",
            "RUN echo hi \\\n",
            " \\\n",
            " world \\\n",
            "\\\n",
            " good\\\n",
            "\\\n",
            "night\n",
            "RUN echo goodbye\\\n",
            "frog\n",
            "RUN echo good\\\n",
            "bye\\\n",
            "frog\n",
            "\n",
            "RUN echo hello \\\n",
            "# this is a comment\n",
            "\n",
            "# this is a comment with a blank line surrounding it\n",
            "\n",
            "this is some more useful stuff\n",
        ),
        docker: r#"(from "ubuntu:14.04")
(run "echo hello  world  goodnight    moon  lightning")
(run "echo hello    world")
(run "echo hello  world")
(run "echo hello goodbyefrog")
(run "echo hello  world")
(run "echo hi   world  goodnight")
(run "echo goodbyefrog")
(run "echo goodbyefrog")
(run "echo hello this is some more useful stuff")
"#,
    },
    Case {
        name: "continue-at-eof",
        source: "testfiles/continue-at-eof",
        dockerfile: r#"FROM alpine:3.5

RUN something \"#,
        docker: r#"(from "alpine:3.5")
(run "something")
"#,
    },
    Case {
        name: "escapes",
        source: "testfiles/escapes",
        dockerfile: r#"FROM ubuntu:14.04
LABEL maintainer Erik \\Hollensbe <erik@hollensbe.org>\"

RUN apt-get \update && \
  apt-get \"install znc -y
ADD \conf\\" /.znc

RUN foo \

bar \

baz

CMD [ "\/usr\\\"/bin/znc", "-f", "-r" ]
"#,
        docker: r#"(from "ubuntu:14.04")
(label "maintainer" "Erik \\\\Hollensbe <erik@hollensbe.org>\\\"")
(run "apt-get \\update &&   apt-get \\\"install znc -y")
(add "\\conf\\\\\"" "/.znc")
(run "foo bar baz")
(cmd "/usr\\\"/bin/znc" "-f" "-r")
"#,
    },
    Case {
        name: "env",
        source: "testfiles/env",
        dockerfile: concat!(
            "FROM ubuntu\n",
            "ENV name value\n",
            "ENV name=value\n",
            "ENV name=value name2=value2\n",
            "ENV name=\"value value1\"\n",
            "ENV name=value\\ value2\n",
            "ENV name=\"value'quote space'value2\"\n",
            "ENV name='value\"double quote\"value2'\n",
            "ENV name=value\\ value2 name2=value2\\ value3\n",
            "ENV name=\"a\\\"b\"\n",
            "ENV name=\"a\\'b\"\n",
            "ENV name='a\\'b'\n",
            "ENV name='a\\'b''\n",
            "ENV name='a\\\"b'\n",
            "ENV name=\"''\"\n",
            "# don't put anything after the next line - it must be the last line of the\n",
            "# Dockerfile and it must end with \\\n",
            "ENV name=value \\\n",
            "    name1=value1 \\\n",
            "    name2=\"value2a \\\n",
            "           value2b\" \\\n",
            "    name3=\"value3a\\n\\\"value3b\\\"\" \\\n",
            "\tname4=\"value4a\\\\nvalue4b\" \\\n",
        ),
        docker: r#"(from "ubuntu")
(env "name" "value")
(env "name" "value")
(env "name" "value" "name2" "value2")
(env "name" "\"value value1\"")
(env "name" "value\\ value2")
(env "name" "\"value'quote space'value2\"")
(env "name" "'value\"double quote\"value2'")
(env "name" "value\\ value2" "name2" "value2\\ value3")
(env "name" "\"a\\\"b\"")
(env "name" "\"a\\'b\"")
(env "name" "'a\\'b'")
(env "name" "'a\\'b''")
(env "name" "'a\\\"b'")
(env "name" "\"''\"")
(env "name" "value" "name1" "value1" "name2" "\"value2a            value2b\"" "name3" "\"value3a\\n\\\"value3b\\\"\"" "name4" "\"value4a\\\\nvalue4b\"")
"#,
    },
    Case {
        name: "escape",
        source: "testfiles/escape, with the result of testfiles/escape-nonewline (the same instructions)",
        dockerfile: r#"#escape = `

FROM image
LABEL maintainer foo@bar.com
ENV GOPATH `
\go"#,
        docker: r#"(from "image")
(label "maintainer" "foo@bar.com")
(env "GOPATH" "\\go")
"#,
    },
    Case {
        name: "lk4d4-the-edge-case-generator",
        source: "testfiles/lk4d4-the-edge-case-generator",
        dockerfile: r#"FROM busybox:buildroot-2014.02

LABEL maintainer docker <docker@docker.io>

ONBUILD RUN ["echo", "test"]
ONBUILD RUN echo test
ONBUILD COPY . /


# RUN Commands \
# linebreak in comment \
RUN ["ls", "-la"]
RUN ["echo", "'1234'"]
RUN echo "1234"
RUN echo 1234
RUN echo '1234' && \
    echo "456" && \
    echo 789
RUN    sh -c 'echo root:testpass \
        > /tmp/passwd'
RUN mkdir -p /test /test2 /test3/test

# ENV \
ENV SCUBA 1 DUBA 3
ENV SCUBA "1 DUBA 3"

# CMD \
CMD ["echo", "test"]
CMD echo test
CMD echo "test"
CMD echo 'test'
CMD echo 'test' | wc -

#EXPOSE\
EXPOSE 3000
EXPOSE 9000 5000 6000

USER docker
USER docker:root

VOLUME ["/test"]
VOLUME ["/test", "/test2"]
VOLUME /test3

WORKDIR /test

ADD . /
COPY . copy
"#,
        docker: r#"(from "busybox:buildroot-2014.02")
(label "maintainer" "docker <docker@docker.io>")
(onbuild (run "echo" "test"))
(onbuild (run "echo test"))
(onbuild (copy "." "/"))
(run "ls" "-la")
(run "echo" "'1234'")
(run "echo \"1234\"")
(run "echo 1234")
(run "echo '1234' &&     echo \"456\" &&     echo 789")
(run "sh -c 'echo root:testpass         > /tmp/passwd'")
(run "mkdir -p /test /test2 /test3/test")
(env "SCUBA" "1 DUBA 3")
(env "SCUBA" "\"1 DUBA 3\"")
(cmd "echo" "test")
(cmd "echo test")
(cmd "echo \"test\"")
(cmd "echo 'test'")
(cmd "echo 'test' | wc -")
(expose "3000")
(expose "9000" "5000" "6000")
(user "docker")
(user "docker:root")
(volume "/test")
(volume "/test" "/test2")
(volume "/test3")
(workdir "/test")
(add "." "/")
(copy "." "copy")
"#,
    },
    Case {
        name: "kartar-entrypoint-oddities",
        source: "testfiles/kartar-entrypoint-oddities",
        dockerfile: r#"FROM ubuntu:14.04
LABEL maintainer James Turnbull "james@example.com"
ENV REFRESHED_AT 2014-06-01
RUN apt-get update
RUN apt-get -y install redis-server redis-tools
EXPOSE 6379
ENTRYPOINT [ "/usr/bin/redis-server" ]
"#,
        docker: r#"(from "ubuntu:14.04")
(label "maintainer" "James Turnbull \"james@example.com\"")
(env "REFRESHED_AT" "2014-06-01")
(run "apt-get update")
(run "apt-get -y install redis-server redis-tools")
(expose "6379")
(entrypoint "/usr/bin/redis-server")
"#,
    },
    Case {
        name: "json",
        source: "testfiles/json, after a FROM",
        dockerfile: concat!(
            "FROM scratch\n",
            "CMD []\n",
            "CMD [\"\"]\n",
            "CMD [\"a\"]\n",
            "CMD [\"a\",\"b\"]\n",
            "CMD [ \"a\", \"b\" ]\n",
            "CMD [\t\"a\",\t\"b\"\t]\n",
            "CMD\t[\t\"a\",\t\"b\"\t]\t\n",
            "CMD [\"abc 123\", \"♥\", \"☃\", \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000\"]\n",
        ),
        docker: r#"(from "scratch")
(cmd)
(cmd "")
(cmd "a")
(cmd "a" "b")
(cmd "a" "b")
(cmd "a" "b")
(cmd "a" "b")
(cmd "abc 123" "♥" "☃" "\" \\ / \b \f \n \r \t \x00")
"#,
    },
    Case {
        name: "flags",
        source: "testfiles/flags, the lines without flags docker's instructions refuse",
        dockerfile: r#"FROM scratch
COPY foo /tmp/
COPY -- foo /tmp/
"#,
        docker: r#"(from "scratch")
(copy "foo" "/tmp/")
(copy "foo" "/tmp/")
"#,
    },
    Case {
        name: "jeztah-invalid-json",
        source: "testfiles/jeztah-invalid-json-*, after a FROM",
        dockerfile: r#"FROM scratch
CMD '["echo", "Well, JSON in a string is JSON too?"]'
CMD "[\"echo\", \"Phew, I just managed to escaped those double quotes\"]"
CMD ['echo','single quotes are invalid JSON']
CMD ["echo", "Please, close the brackets when you're done"
CMD ["echo", "look ma, no quote!]
"#,
        docker: r#"(from "scratch")
(cmd "'[\"echo\", \"Well, JSON in a string is JSON too?\"]'")
(cmd "\"[\\\"echo\\\", \\\"Phew, I just managed to escaped those double quotes\\\"]\"")
(cmd "['echo','single quotes are invalid JSON']")
(cmd "[\"echo\", \"Please, close the brackets when you're done\"")
(cmd "[\"echo\", \"look ma, no quote!]")
"#,
    },
    Case {
        name: "ADD-COPY-with-JSON",
        source: "testfiles/ADD-COPY-with-JSON",
        dockerfile: concat!(
            "FROM\tubuntu:14.04\n",
            "LABEL\tmaintainer\tSeongyeol Lim <seongyeol37@gmail.com>\n",
            "\n",
            "COPY\t.\t/go/src/github.com/docker/docker\n",
            "ADD\t\t.\t/\n",
            "ADD\t\tnull /\n",
            "COPY\tnullfile /tmp\n",
            "ADD\t\t[ \"vimrc\", \"/tmp\" ]\n",
            "COPY\t[ \"bashrc\", \"/tmp\" ]\n",
            "COPY\t[ \"test file\", \"/tmp\" ]\n",
            "ADD\t\t[ \"test file\", \"/tmp/test file\" ]\n",
        ),
        docker: r#"(from "ubuntu:14.04")
(label "maintainer" "Seongyeol Lim <seongyeol37@gmail.com>")
(copy "." "/go/src/github.com/docker/docker")
(add "." "/")
(add "null" "/")
(copy "nullfile" "/tmp")
(add "vimrc" "/tmp")
(copy "bashrc" "/tmp")
(copy "test file" "/tmp")
(add "test file" "/tmp/test file")
"#,
    },
    Case {
        name: "multiple-volumes",
        source: "testfiles/multiple-volumes",
        dockerfile: r#"FROM foo

VOLUME /opt/nagios/var /opt/nagios/etc /opt/nagios/libexec /var/log/apache2 /usr/share/snmp/mibs
"#,
        docker: r#"(from "foo")
(volume "/opt/nagios/var" "/opt/nagios/etc" "/opt/nagios/libexec" "/var/log/apache2" "/usr/share/snmp/mibs")
"#,
    },
    Case {
        name: "brimstone-consuldock",
        source: "testfiles/brimstone-consuldock",
        dockerfile: concat!(
            "#escape=\\\n",
            "FROM brimstone/ubuntu:14.04\n",
            "\n",
            "LABEL maintainer brimstone@the.narro.ws\n",
            "\n",
            "# TORUN -v /var/run/docker.sock:/var/run/docker.sock\n",
            "\n",
            "ENV GOPATH /go\n",
            "\n",
            "# Set our command\n",
            "ENTRYPOINT [\"/usr/local/bin/consuldock\"]\n",
            "\n",
            "# Install the packages we need, clean up after them and us\n",
            "RUN apt-get update \\\n",
            "\t&& dpkg -l | awk '/^ii/ {print $2}' > /tmp/dpkg.clean \\\n",
            "    && apt-get install -y --no-install-recommends git golang ca-certificates \\\n",
            "    && apt-get clean \\\n",
            "    && rm -rf /var/lib/apt/lists \\\n",
            "\n",
            "\t&& go get -v github.com/brimstone/consuldock \\\n",
            "    && mv $GOPATH/bin/consuldock /usr/local/bin/consuldock \\\n",
            "\n",
            "\t&& dpkg -l | awk '/^ii/ {print $2}' > /tmp/dpkg.dirty \\\n",
            "\t&& apt-get remove --purge -y $(diff /tmp/dpkg.clean /tmp/dpkg.dirty | awk '/^>/ {print $2}') \\\n",
            "\t&& rm /tmp/dpkg.* \\\n",
            "\t&& rm -rf $GOPATH\n",
        ),
        docker: r#"(from "brimstone/ubuntu:14.04")
(label "maintainer" "brimstone@the.narro.ws")
(env "GOPATH" "/go")
(entrypoint "/usr/local/bin/consuldock")
(run "apt-get update \t&& dpkg -l | awk '/^ii/ {print $2}' > /tmp/dpkg.clean     && apt-get install -y --no-install-recommends git golang ca-certificates     && apt-get clean     && rm -rf /var/lib/apt/lists \t&& go get -v github.com/brimstone/consuldock     && mv $GOPATH/bin/consuldock /usr/local/bin/consuldock \t&& dpkg -l | awk '/^ii/ {print $2}' > /tmp/dpkg.dirty \t&& apt-get remove --purge -y $(diff /tmp/dpkg.clean /tmp/dpkg.dirty | awk '/^>/ {print $2}') \t&& rm /tmp/dpkg.* \t&& rm -rf $GOPATH")
"#,
    },
    Case {
        name: "docker",
        source: "testfiles/docker, the instructions continued with tabs and the ones with quotes and escapes",
        dockerfile: concat!(
            "FROM\tubuntu:14.04\n",
            "LABEL\tmaintainer\tTianon Gravi <admwiggin@gmail.com> (@tianon)\n",
            "\n",
            "# Packaged dependencies\n",
            "RUN\tapt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -yq \\\n",
            "\tapt-utils \\\n",
            "\taufs-tools \\\n",
            "\tautomake \\\n",
            "\tbtrfs-tools \\\n",
            "\tbuild-essential \\\n",
            "\tcurl \\\n",
            "\tdpkg-sig \\\n",
            "\tgit \\\n",
            "\tiptables \\\n",
            "\tlibapparmor-dev \\\n",
            "\tlibcap-dev \\\n",
            "\tmercurial \\\n",
            "\tpandoc \\\n",
            "\tparallel \\\n",
            "\treprepro \\\n",
            "\truby1.9.1 \\\n",
            "\truby1.9.1-dev \\\n",
            "\ts3cmd=1.1.0* \\\n",
            "\t--no-install-recommends\n",
            "ENV\tPATH\t/usr/local/go/bin:$PATH\n",
            "ENV\tGOPATH\t/go:/go/src/github.com/docker/docker/vendor\n",
            "# Compile Go for cross compilation\n",
            "ENV\tDOCKER_CROSSPLATFORMS\t\\\n",
            "\tlinux/386 linux/arm \\\n",
            "\tdarwin/amd64 darwin/386 \\\n",
            "\tfreebsd/amd64 freebsd/386 freebsd/arm\n",
            "# (set an explicit GOARM of 5 for maximum compatibility)\n",
            "ENV\tGOARM\t5\n",
            "RUN\tcd /usr/local/go/src && bash -xc 'for platform in $DOCKER_CROSSPLATFORMS; do GOOS=${platform%/*} GOARCH=${platform##*/} ./make.bash --no-clean 2>&1; done'\n",
            "# Setup s3cmd config\n",
            "RUN\t/bin/echo -e '[default]\\naccess_key=$AWS_ACCESS_KEY\\nsecret_key=$AWS_SECRET_KEY' > /.s3cfg\n",
            "VOLUME\t/var/lib/docker\n",
            "WORKDIR\t/go/src/github.com/docker/docker\n",
            "ENV\tDOCKER_BUILDTAGS\tapparmor selinux\n",
            "\n",
            "# Wrap all commands in the \"docker-in-docker\" script to allow nested containers\n",
            "ENTRYPOINT\t[\"hack/dind\"]\n",
            "\n",
            "# Upload docker source\n",
            "COPY\t.\t/go/src/github.com/docker/docker\n",
        ),
        docker: r#"(from "ubuntu:14.04")
(label "maintainer" "Tianon Gravi <admwiggin@gmail.com> (@tianon)")
(run "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -yq \tapt-utils \taufs-tools \tautomake \tbtrfs-tools \tbuild-essential \tcurl \tdpkg-sig \tgit \tiptables \tlibapparmor-dev \tlibcap-dev \tmercurial \tpandoc \tparallel \treprepro \truby1.9.1 \truby1.9.1-dev \ts3cmd=1.1.0* \t--no-install-recommends")
(env "PATH" "/usr/local/go/bin:$PATH")
(env "GOPATH" "/go:/go/src/github.com/docker/docker/vendor")
(env "DOCKER_CROSSPLATFORMS" "linux/386 linux/arm \tdarwin/amd64 darwin/386 \tfreebsd/amd64 freebsd/386 freebsd/arm")
(env "GOARM" "5")
(run "cd /usr/local/go/src && bash -xc 'for platform in $DOCKER_CROSSPLATFORMS; do GOOS=${platform%/*} GOARCH=${platform##*/} ./make.bash --no-clean 2>&1; done'")
(run "/bin/echo -e '[default]\\naccess_key=$AWS_ACCESS_KEY\\nsecret_key=$AWS_SECRET_KEY' > /.s3cfg")
(volume "/var/lib/docker")
(workdir "/go/src/github.com/docker/docker")
(env "DOCKER_BUILDTAGS" "apparmor selinux")
(entrypoint "hack/dind")
(copy "." "/go/src/github.com/docker/docker")
"#,
    },
    Case {
        name: "cpuguy83-nagios",
        source: "testfiles/cpuguy83-nagios, the instructions with URLs, escapes and quotes",
        dockerfile: r#"FROM cpuguy83/ubuntu
ENV NAGIOS_HOME /opt/nagios
ADD http://downloads.sourceforge.net/project/nagios/nagios-3.x/nagios-3.5.1/nagios-3.5.1.tar.gz?r=http%3A%2F%2Fwww.nagios.org%2Fdownload%2Fcore%2Fthanks%2F%3Ft%3D1398863696&ts=1398863718&use_mirror=superb-dca3 /tmp/nagios.tar.gz
RUN sed -i.bak 's/.*\=www\-data//g' /etc/apache2/envvars
RUN export DOC_ROOT="DocumentRoot $(echo $NAGIOS_HOME/share)"; sed -i "s,DocumentRoot.*,$DOC_ROOT," /etc/apache2/sites-enabled/000-default
RUN echo "use_timezone=$NAGIOS_TIMEZONE" >> ${NAGIOS_HOME}/etc/nagios.cfg && echo "SetEnv TZ \"${NAGIOS_TIMEZONE}\"" >> /etc/apache2/conf.d/nagios.conf
RUN sed -i 's,/bin/mail,/usr/bin/mail,' /opt/nagios/etc/objects/commands.cfg && \
  sed -i 's,/usr/usr,/usr,' /opt/nagios/etc/objects/commands.cfg
VOLUME ["/opt/nagios/var", "/opt/nagios/etc", "/opt/nagios/libexec", "/var/log/apache2", "/usr/share/snmp/mibs"]
"#,
        docker: r#"(from "cpuguy83/ubuntu")
(env "NAGIOS_HOME" "/opt/nagios")
(add "http://downloads.sourceforge.net/project/nagios/nagios-3.x/nagios-3.5.1/nagios-3.5.1.tar.gz?r=http%3A%2F%2Fwww.nagios.org%2Fdownload%2Fcore%2Fthanks%2F%3Ft%3D1398863696&ts=1398863718&use_mirror=superb-dca3" "/tmp/nagios.tar.gz")
(run "sed -i.bak 's/.*\\=www\\-data//g' /etc/apache2/envvars")
(run "export DOC_ROOT=\"DocumentRoot $(echo $NAGIOS_HOME/share)\"; sed -i \"s,DocumentRoot.*,$DOC_ROOT,\" /etc/apache2/sites-enabled/000-default")
(run "echo \"use_timezone=$NAGIOS_TIMEZONE\" >> ${NAGIOS_HOME}/etc/nagios.cfg && echo \"SetEnv TZ \\\"${NAGIOS_TIMEZONE}\\\"\" >> /etc/apache2/conf.d/nagios.conf")
(run "sed -i 's,/bin/mail,/usr/bin/mail,' /opt/nagios/etc/objects/commands.cfg &&   sed -i 's,/usr/usr,/usr,' /opt/nagios/etc/objects/commands.cfg")
(volume "/opt/nagios/var" "/opt/nagios/etc" "/opt/nagios/libexec" "/var/log/apache2" "/usr/share/snmp/mibs")
"#,
    },
    Case {
        name: "trailing-backslash",
        source: "testfiles/trailing-backslash; result derived from the parser's continuation rule, not read from a result file",
        dockerfile: r#"# https://github.com/docker/for-win/issues/5254

FROM hello-world

ENV A path
ENV B another\\path
ENV C trailing\\backslash\\
ENV D This should not be appended to C
ENV E hello\
\
world
ENV F hello\
 \
world
ENV G hello \
\
world
"#,
        docker: r#"(from "hello-world")
(env "A" "path")
(env "B" "another\\\\path")
(env "C" "trailing\\\\backslash\\\\")
(env "D" "This should not be appended to C")
(env "E" "helloworld")
(env "F" "hello world")
(env "G" "hello world")
"#,
    },
];

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
    // testfiles/health
    (
        "HEALTHCHECK",
        "HEALTHCHECK --interval=5s --timeout=3s --retries=3 \\\n  CMD /app/check.sh --quiet",
    ),
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

/// The shell lexer's `envVarTest`, as docker's repository has it: platform
/// (A all, U unix, W windows) | word | what it expands to, or `error`. The
/// variables set are PWD=/home, SHELL=bash and KOREAN=한국어.
const ENV_VAR_TEST: &str = r##"A|hello                    |     hello
A|he'll'o                  |     hello
A|he'llo                   |     error
A|he\'llo                  |     he'llo
A|he\\'llo                 |     error
A|abc\tdef                 |     abctdef
A|"abc\tdef"               |     abc\tdef
A|"abc\\tdef"              |     abc\tdef
A|'abc\tdef'               |     abc\tdef
A|hello\                   |     hello
A|hello\\                  |     hello\
A|"hello                   |     error
A|"hello\"                 |     error
A|"hel'lo"                 |     hel'lo
A|'hello                   |     error
A|'hello\'                 |     hello\
A|'hello\there'            |     hello\there
A|'hello\\there'           |     hello\\there
A|"''"                     |     ''
A|$.                       |     $.
A|$1                       |
A|he$1x                    |     hex
A|he$.x                    |     he$.x
# Next one is different on Windows as $pwd==$PWD
U|he$pwd.                  |     he.
W|he$pwd.                  |     he/home.
A|he$PWD                   |     he/home
A|he\$PWD                  |     he$PWD
A|he\\$PWD                 |     he\/home
A|"he\$PWD"                |     he$PWD
A|"he\\$PWD"               |     he\/home
A|\${}                     |     ${}
A|\${}aaa                  |     ${}aaa
A|he\${}                   |     he${}
A|he\${}xx                 |     he${}xx
A|${}                      |     error
A|${}aaa                   |     error
A|he${}                    |     error
A|he${}xx                  |     error
A|he${hi}                  |     he
A|he${hi}xx                |     hexx
A|he${PWD}                 |     he/home
A|he${.}                   |     error
A|he${XXX:-000}xx          |     he000xx
A|he${PWD:-000}xx          |     he/homexx
A|he${XXX:-$PWD}xx         |     he/homexx
A|he${XXX:-${PWD:-yyy}}xx  |     he/homexx
A|he${XXX:-${YYY:-yyy}}xx  |     heyyyxx
A|he${XXX:YYY}             |     error
A|he${XXX:+${PWD}}xx       |     hexx
A|he${PWD:+${XXX}}xx       |     hexx
A|he${PWD:+${SHELL}}xx     |     hebashxx
A|he${XXX:+000}xx          |     hexx
A|he${PWD:+000}xx          |     he000xx
A|'he${XX}'                |     he${XX}
A|"he${PWD}"               |     he/home
A|"he'$PWD'"               |     he'/home'
A|"$PWD"                   |     /home
A|'$PWD'                   |     $PWD
A|'\$PWD'                  |     \$PWD
A|'"hello"'                |     "hello"
A|he\$PWD                  |     he$PWD
A|"he\$PWD"                |     he$PWD
A|'he\$PWD'                |     he\$PWD
A|he${PWD                  |     error
A|he${PWD:=000}xx          |     error
A|he${PWD:+${PWD}:}xx      |     he/home:xx
A|he${XXX:-\$PWD:}xx       |     he$PWD:xx
A|he${XXX:-\${PWD}z}xx     |     he${PWDz}xx
A|안녕하세요                 |     안녕하세요
A|안'녕'하세요               |     안녕하세요
A|안'녕하세요                |     error
A|안녕\'하세요               |     안녕'하세요
A|안\\'녕하세요              |     error
A|안녕\t하세요               |     안녕t하세요
A|"안녕\t하세요"             |     안녕\t하세요
A|'안녕\t하세요              |     error
A|안녕하세요\                |     안녕하세요
A|안녕하세요\\               |     안녕하세요\
A|"안녕하세요                |     error
A|"안녕하세요\"              |     error
A|"안녕'하세요"              |     안녕'하세요
A|'안녕하세요                |     error
A|'안녕하세요\'              |     안녕하세요\
A|안녕$1x                    |     안녕x
A|안녕$.x                    |     안녕$.x
# Next one is different on Windows as $pwd==$PWD
U|안녕$pwd.                  |     안녕.
W|안녕$pwd.                  |     안녕/home.
A|안녕$PWD                   |     안녕/home
A|안녕\$PWD                  |     안녕$PWD
A|안녕\\$PWD                 |     안녕\/home
A|안녕\${}                   |     안녕${}
A|안녕\${}xx                 |     안녕${}xx
A|안녕${}                    |     error
A|안녕${}xx                  |     error
A|안녕${hi}                  |     안녕
A|안녕${hi}xx                |     안녕xx
A|안녕${PWD}                 |     안녕/home
A|안녕${.}                   |     error
A|안녕${XXX:-000}xx          |     안녕000xx
A|안녕${PWD:-000}xx          |     안녕/homexx
A|안녕${XXX:-$PWD}xx         |     안녕/homexx
A|안녕${XXX:-${PWD:-yyy}}xx  |     안녕/homexx
A|안녕${XXX:-${YYY:-yyy}}xx  |     안녕yyyxx
A|안녕${XXX:YYY}             |     error
A|안녕${XXX:+${PWD}}xx       |     안녕xx
A|안녕${PWD:+${XXX}}xx       |     안녕xx
A|안녕${PWD:+${SHELL}}xx     |     안녕bashxx
A|안녕${XXX:+000}xx          |     안녕xx
A|안녕${PWD:+000}xx          |     안녕000xx
A|'안녕${XX}'                |     안녕${XX}
A|"안녕${PWD}"               |     안녕/home
A|"안녕'$PWD'"               |     안녕'/home'
A|'"안녕"'                   |     "안녕"
A|안녕\$PWD                  |     안녕$PWD
A|"안녕\$PWD"                |     안녕$PWD
A|'안녕\$PWD'                |     안녕\$PWD
A|안녕${PWD                  |     error
A|안녕${PWD:=000}xx          |     error
A|안녕${PWD:+${PWD}:}xx      |     안녕/home:xx
A|안녕${XXX:-\$PWD:}xx       |     안녕$PWD:xx
A|안녕${XXX:-\${PWD}z}xx     |     안녕${PWDz}xx
A|$KOREAN                    |     한국어
A|안녕$KOREAN                |     안녕한국어
A|${{aaa}                   |     error
A|${aaa}}                   |     }
A|${aaa                     |     error
A|${{aaa:-bbb}              |     error
A|${aaa:-bbb}}              |     bbb}
A|${aaa:-bbb                |     error
A|${aaa:-bbb}               |     bbb
A|${aaa:-${bbb:-ccc}}       |     ccc
A|${aaa:-bbb ${foo}         |     error
A|${aaa:-bbb {foo}          |     bbb {foo
A|${:}                      |     error
A|${:-bbb}                  |     error
A|${:+bbb}                  |     error
"##;

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
