#!/usr/bin/env bash
# General English text for the text encoder (avmask textlm), from Debian packages only
# (scripts/install_deps.sh installs them; nothing is downloaded), one sentence per line:
#   text_corpus.sh [--wordnet DIR] [--fortunes DIR] OUT [EXTRA...]
#  - fortunes-min (DIR /usr/share/games/fortunes: fortunes, literature, riddles): each
#    fortune (the lines between two '%' lines) joined into one line, attribution lines
#    ("-- Mark Twain") left out, then cut into sentences after '.', '!' or '?' (and any
#    closing quote or bracket) followed by a blank;
#  - wordnet-base (DIR /usr/share/wordnet: data.noun, data.verb, data.adj, data.adv): per
#    synset one line "<lemma>, <lemma>, ...: <definition>" (the synonyms beside their
#    definition, so masked-language modelling sees them in one context; '_' in lemmas made
#    blanks, adjective markers such as "(a)" dropped) and each quoted example as a line;
#  - then every EXTRA file as it is (e.g. the spoken-command corpus' text_corpus.txt).
# Blanks are squeezed and trimmed, empty lines dropped; the output is the same on every run
# (files in this order). Prints "OUT: N sentences (F fortunes, W wordnet, E extra)".
set -euo pipefail
wordnet=/usr/share/wordnet
fortunes=/usr/share/games/fortunes
help_message="usage: $0 [--wordnet DIR] [--fortunes DIR] OUT [EXTRA...]"
. "$(dirname "$0")/../common/parse_options.sh"
[ $# -ge 1 ] || { echo "$help_message" >&2; exit 2; }
out=$1; shift
for f in "$fortunes"/fortunes "$fortunes"/literature "$fortunes"/riddles "$wordnet"/data.{noun,verb,adj,adv} "$@"; do
    [ -r "$f" ] || { echo "$0: $f: not readable (fortunes-min and wordnet-base: scripts/install_deps.sh)" >&2; exit 1; }
done
tmp=$out.tmp
export LC_ALL=C

# fortunes: entries between '%' lines -> sentences
awk '
function emit(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); if (s != "") print s }
function sentences(s) {
    while (match(s, /[.!?]+["'"'"')\]]* /)) { emit(substr(s, 1, RSTART + RLENGTH - 2)); s = substr(s, RSTART + RLENGTH) }
    emit(s)
}
/^%$/ { sentences(entry); entry = ""; next }
/^[ \t]*--/ { next }
{ entry = entry " " $0 }
END { sentences(entry) }
' "$fortunes"/fortunes "$fortunes"/literature "$fortunes"/riddles >"$tmp.f"

# wordnet: "lemma, lemma: definition" and the quoted examples
awk '
function emit(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); if (s != "") print s }
function hex(h,   i, v) { v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(tolower(h), i, 1)) - 1; return v }
/^  / { next }   # the licence header
{
    bar = index($0, " | "); if (!bar) next
    split(substr($0, 1, bar - 1), f, " ")
    n = hex(f[4]); lemmas = ""
    for (i = 0; i < n; i++) {
        w = f[5 + 2 * i]; gsub(/_/, " ", w); sub(/\([a-z]+\)$/, "", w)
        lemmas = lemmas (i ? ", " : "") w
    }
    gloss = substr($0, bar + 3); q = index(gloss, "\"")
    def = q ? substr(gloss, 1, q - 1) : gloss
    sub(/[; \t]+$/, "", def)
    emit(lemmas ": " def)
    rest = q ? substr(gloss, q) : ""
    while (match(rest, /"[^"]*"/)) { emit(substr(rest, RSTART + 1, RLENGTH - 2)); rest = substr(rest, RSTART + RLENGTH) }
}
' "$wordnet"/data.noun "$wordnet"/data.verb "$wordnet"/data.adj "$wordnet"/data.adv >"$tmp.w"

: >"$tmp.e"
for f in "$@"; do sed -e 's/[ \t][ \t]*/ /g' -e 's/^ //' -e 's/ $//' -e '/^$/d' "$f" >>"$tmp.e"; done
cat "$tmp.f" "$tmp.w" "$tmp.e" >"$tmp"
echo "$out: $(wc -l <"$tmp") sentences ($(wc -l <"$tmp.f") fortunes, $(wc -l <"$tmp.w") wordnet, $(wc -l <"$tmp.e") extra)"
rm -f "$tmp.f" "$tmp.w" "$tmp.e"
mv "$tmp" "$out"
