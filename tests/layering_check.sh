#!/usr/bin/env bash
# The layers' include rules (README, "How it works"): each folder may include
# the headers of the folders listed for it and no others, so that core knows
# no model or file format, io no workflow, ui/models no widget, and nothing
# below app/ sees the GUI. Prints every include that breaks a rule; exit 1 if any.
set -euo pipefail
root=${1:?usage: layering_check.sh SOURCE_DIR}
cd "$root"
declare -A allowed=(
  [core]="core"
  [models]="core models"
  [io]="core io"
  [plugins]="io plugins"
  [workflows]="core models io workflows"
  [ui/charts]="core ui/charts"
  [ui/models]="core models io workflows ui/models"
  [ui/widgets]="core models io workflows ui/models ui/widgets ui/charts"
  [app/cli]="core models io workflows ui/charts app/cli"
)
bad=0
checked=0
for folder in "${!allowed[@]}"; do
  while IFS= read -r line; do
    file=${line%%:*}
    target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$line")
    checked=$((checked + 1))
    ok=0
    for prefix in ${allowed[$folder]}; do
      [[ $target == "$prefix"/* ]] && ok=1
    done
    # Headers next to the file (no folder) are its own layer's.
    [[ $target != */* ]] && ok=1
    if ((ok == 0)); then
      echo "$file includes \"$target\": $folder may include only ${allowed[$folder]}"
      bad=1
    fi
  done < <(grep -rHE '^#include "' --include='*.h' --include='*.cpp' "$folder" || true)
done
echo "checked $checked includes in ${#allowed[@]} folders"
exit $bad
