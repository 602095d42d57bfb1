//! The reference parser's testfiles (see `docker_cases.rs`): each a
//! Dockerfile and the dump docker's parser makes of it.

/// A reference Dockerfile and docker's dump of it.
pub struct Case {
    pub name: &'static str,
    /// Where it comes from in the reference's test data, and how it was
    /// adapted: docker's parser takes a file without FROM, cratebox does
    /// not, so such cases get a `FROM scratch` (and its line in the result).
    pub source: &'static str,
    pub dockerfile: &'static str,
    pub docker: &'static str,
}

pub const SAME_AS_DOCKER: &[Case] = &[
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
