#!/bin/sh
#
# doccheck.sh - the configuration documentation matches the table
#
# shared/conf_params.h is the one source of truth for parameter names and
# defaults (STYLE.md rule 7, as Postfix's check-postconf-undocumented and
# check-param-defaults). This check fails when a parameter is missing from
# shared/sesgate.conf.5.in ("name (default: X)" under PARAMETERS, in table
# order) or from packaging/sesgate.conf.sample ("Default: X" and the
# commented-out "#name = X" line), when a documented default differs from
# the table, or when the documents describe a parameter the table lacks.
# An empty default is written "empty" in the prose, nothing after "=".
#
# Environment: top_srcdir (set by "make check"; else the script's parent).
# Exit: 0 when all agree, 1 otherwise (one line per problem).

LC_ALL=C
export LC_ALL

if test -z "${top_srcdir}"; then
    top_srcdir=$(dirname "$0")/..
fi
params=${top_srcdir}/shared/conf_params.h
man=${top_srcdir}/shared/sesgate.conf.5.in
sample=${top_srcdir}/packaging/sesgate.conf.sample

for f in "$params" "$man" "$sample"; do
    if test ! -r "$f"; then
        echo "doccheck: cannot read $f"
        exit 1
    fi
done

# Field separator of the lists below: ASCII US, which no default holds.
us=$(printf '\037')
problems=0

# problem - report one disagreement
problem()
{
    echo "doccheck: $*"
    problems=$((problems + 1))
}

# The table: "name US default", one line per SG_CONF_PARAM row.
row='^SG_CONF_PARAM([ ]*\([A-Za-z0-9_]*\)[ ]*,[ ]*[A-Z]*[ ]*,[ ]*"\([^"]*\)".*'
table=$(sed -n "s/$row/\\1$us\\2/p" "$params")
if test -z "$table"; then
    echo "doccheck: no SG_CONF_PARAM rows found in $params"
    exit 1
fi

# The man page: "name (default: X)" lines once font escapes and "\-"
# are undone, as "name US X".
mandoc=$(sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g' "$man" |
    sed -n "s/^\([A-Za-z0-9_]*\) (default: \(.*\))[ ]*\$/\1$us\2/p")

# The sample: for each "#name = value" line, "name US value US the
# Default: of its comment block" ("(none)" when the block has none).
sampdoc=$(awk -v us="$us" '
    /^#[ \t]*Default:/ {
        d = $0
        sub(/^#[ \t]*Default:[ \t]*/, "", d)
        sub(/[ \t]+$/, "", d)
        next
    }
    /^#[A-Za-z0-9_]+[ \t]*=/ {
        line = substr($0, 2)
        n = line
        sub(/[ \t]*=.*/, "", n)
        v = line
        sub(/^[^=]*=[ \t]*/, "", v)
        sub(/[ \t]+$/, "", v)
        print n us v us d
        d = "(none)"
    }
    BEGIN { d = "(none)" }' "$sample")

# lookup LIST NAME - the lines of LIST for NAME
lookup()
{
    printf '%s\n' "$1" | grep "^$2$us"
}

# prose - a documented default as the table writes it
prose()
{
    if test x"$1" = x"empty"; then
        echo ""
    else
        echo "$1"
    fi
}

count=0
while IFS=$us read -r name def; do
    count=$((count + 1))

    # Man page.
    lines=$(lookup "$mandoc" "$name")
    n=$(printf '%s' "$lines" | grep -c .)
    if test "$n" -eq 0; then
        problem "$name: missing from sesgate.conf.5.in"
    elif test "$n" -gt 1; then
        problem "$name: listed $n times in sesgate.conf.5.in"
    else
        doc=$(printf '%s\n' "$lines" | cut -d "$us" -f 2)
        if test x"$(prose "$doc")" != x"$def"; then
            problem "$name: sesgate.conf.5.in says default '$doc'," \
                "table says '$def'"
        fi
    fi

    # Sample configuration.
    lines=$(lookup "$sampdoc" "$name")
    n=$(printf '%s' "$lines" | grep -c .)
    if test "$n" -eq 0; then
        problem "$name: no '#$name = ...' line in sesgate.conf.sample"
    elif test "$n" -gt 1; then
        problem "$name: $n '#$name = ...' lines in sesgate.conf.sample"
    else
        val=$(printf '%s\n' "$lines" | cut -d "$us" -f 2)
        doc=$(printf '%s\n' "$lines" | cut -d "$us" -f 3)
        if test x"$val" != x"$def"; then
            problem "$name: sesgate.conf.sample has '#$name = $val'," \
                "table default is '$def'"
        fi
        if test x"$doc" = x"(none)"; then
            problem "$name: no 'Default:' line in its sesgate.conf.sample" \
                "block"
        elif test x"$(prose "$doc")" != x"$def"; then
            problem "$name: sesgate.conf.sample says 'Default: $doc'," \
                "table says '$def'"
        fi
    fi
done <<EOF
$table
EOF

# Documented parameters that the table does not have.
names=$(printf '%s\n' "$table" | cut -d "$us" -f 1)
for doc in man sample; do
    if test $doc = man; then
        list=$mandoc; file=sesgate.conf.5.in
    else
        list=$sampdoc; file=sesgate.conf.sample
    fi
    for name in $(printf '%s\n' "$list" | cut -d "$us" -f 1); do
        if printf '%s\n' "$names" | grep -qx "$name"; then
            :
        else
            problem "$name: in $file but not in conf_params.h"
        fi
    done
done

# The man page lists the parameters in the table's order.
manorder=$(printf '%s\n' "$mandoc" | cut -d "$us" -f 1)
if test -n "$manorder" && test x"$manorder" != x"$names"; then
    problem "sesgate.conf.5.in does not list the parameters in the order" \
        "of conf_params.h"
fi

echo "doccheck: $count parameters, $problems problems"
test "$problems" -eq 0
