#!/bin/sh
# snippet.sh - print a block of policy/postfix-snippets.txt
#
#   snippet.sh FILE NAME [VAR=VALUE ...]   block NAME, %VAR% replaced
#   snippet.sh -man FILE < PAGE.in         a man page with every line
#                                          "@SNIPPET NAME@" replaced by
#                                          the block in .nf/.fi, with the
#                                          placeholders' example values
set -eu

# block FILE NAME - the lines of one block, as written
block() {
    awk -v want="$2" '
        /^@@ / { inb = ($2 == want); if (inb) found = 1; next }
        inb { lines[++n] = $0 }
        END {
            if (!found) { print "snippet.sh: no block " want > "/dev/stderr"; exit 1 }
            while (n > 0 && lines[n] == "") n--
            for (i = 1; i <= n; i++) print lines[i]
        }' "$1"
}

if [ "${1:-}" = "-man" ]; then
    file=$2
    while IFS= read -r line; do
        case $line in
        @SNIPPET\ *@)
            name=${line#@SNIPPET }
            name=${name%@}
            echo ".nf"
            echo ".ft CW"
            block "$file" "$name" | sed \
                -e 's/%PORT%/10040/g' \
                -e 's|%SOCKET%|private/sesgate|g' \
                -e 's/%NAME%/sesgate/g' \
                -e 's/%USER%/sesgate/g' \
                -e 's|%SBINDIR%|@sbindir@|g' \
                -e 's|%CONF%|@sysconfdir@/sesgate/sesgate.conf|g' \
                -e 's/\\/\\e/g' -e 's/^\./\\\&./'
            echo ".ft R"
            echo ".fi"
            ;;
        *)
            printf '%s\n' "$line"
            ;;
        esac
    done
    exit 0
fi

file=$1
name=$2
shift 2
out=$(block "$file" "$name")
for kv in "$@"; do
    k=${kv%%=*}
    v=$(printf '%s' "${kv#*=}" | sed -e 's/[|&\\]/\\&/g')
    out=$(printf '%s\n' "$out" | sed -e "s|%$k%|$v|g")
done
printf '%s\n' "$out"
