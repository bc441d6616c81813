#!/bin/sh
# natc in CI and in a pre-commit hook (docs/ci.md). For every intent file:
#   1. its diagnostics (GitHub annotations on the intent's lines when run by Actions);
#   2. `natc build --check`: the committed configs must be what the intent builds; if not,
#      show what is stale as a diff and fail;
#   3. with a base revision, `natc diff` of the intent at that revision against now, as
#      Markdown for the pull request (a comment or the job summary).
#
# Usage: natc-ci.sh [BASE]   BASE: a git revision (the pull request's base), optional.
# Environment: NATC_INTENTS (directory of intent files, default intents),
#              NATC_OUTPUT (configs are in NATC_OUTPUT/<intent name>/, default generated),
#              NATC_SUMMARY (file the Markdown diff is appended to, default
#              $GITHUB_STEP_SUMMARY or none), NATC (the natc binary, default natc).
set -u
base="${1:-}"
intents="${NATC_INTENTS:-intents}"
output="${NATC_OUTPUT:-generated}"
summary="${NATC_SUMMARY:-${GITHUB_STEP_SUMMARY:-}}"
natc="${NATC:-natc}"
diagnostics=human
[ -n "${GITHUB_ACTIONS:-}" ] && diagnostics=github

status=0
found=0
for intent in "$intents"/*.toml; do
    [ -e "$intent" ] || continue
    found=1
    name=$(basename "$intent" .toml)
    configs="$output/$name"
    if ! "$natc" build "$intent" -o "$configs" --check --format "$diagnostics"; then
        status=1
        fresh=$(mktemp -d)
        if "$natc" build "$intent" -o "$fresh" >/dev/null 2>&1; then
            echo "natc: $configs is not what $intent builds; the difference:" >&2
            diff -ruN "$configs" "$fresh" >&2
            echo "natc: run \`natc build $intent -o $configs --prune\` and commit the result (--prune deletes the files named as written by natc for a gateway or target no longer built)" >&2
        fi
        rm -rf "$fresh"
    fi
    if [ -n "$base" ] && [ -n "$summary" ] && git cat-file -e "$base:$intent" 2>/dev/null; then
        old=$(mktemp)
        git show "$base:$intent" >"$old"
        changes=$("$natc" diff "$old" "$intent" 2>/dev/null)
        rm -f "$old"
        if [ -n "$changes" ]; then
            {
                printf '### natc: what `%s` changes\n\n```diff\n%s\n```\n\n' "$intent" "$changes"
            } >>"$summary"
        fi
    fi
done
if [ "$found" = 0 ]; then
    echo "natc: no intent files in $intents/ (set NATC_INTENTS)" >&2
    exit 1
fi
exit "$status"
