"""``credproc completion bash|zsh|fish``: a script that completes credproc's command line.

The script is fixed; at each Tab it asks ``credproc completion SHELL -- WORD...`` for the
candidates (``credproc.cli.completion``), so new options, commands and profiles need no new
script. Its answer is one candidate a line, ``WORD`` or ``WORD<TAB>DESCRIPTION``, or a line
that starts with a tab and tells the shell to complete a file name (``<TAB>files<TAB>PREFIX``,
the part of the current word before the file name) or the command line after ``--``
(``<TAB>command``) its own way.
"""

from __future__ import annotations

import argparse
import os
import sys

from ...config.syntax import SHELLS
from ..completion import Completions, complete

BASH = r"""# credproc completion for bash. Load it from ~/.bashrc:
#     source <(credproc completion bash)
# or save it where bash-completion looks for it:
#     credproc completion bash > ~/.local/share/bash-completion/completions/credproc
_credproc() {
    local line=${COMP_LINE:0:COMP_POINT} words=() word rest i n
    # COMP_WORDS cuts --flag=value and ARNs at = and :; join the pieces that touch in the
    # line, so that credproc sees each word as the command will get it.
    for ((i = 0; i <= COMP_CWORD; i++)); do
        rest=${line#"${line%%[![:space:]]*}"}
        if ((i == COMP_CWORD)); then word=$rest; else word=${COMP_WORDS[i]}; fi
        n=${#words[@]}
        if ((i > 0 && ${#rest} == ${#line})); then words[n - 1]+=$word; else words[n]=$word; fi
        line=${rest:${#word}}
    done
    # readline replaces only the text after the word's last break (= or :), with a break
    # that is @ or $ kept (its "special prefixes"): answers lose what comes before.
    local cur=${words[${#words[@]} - 1]} typed
    typed=${cur##*[$COMP_WORDBREAKS]}
    [[ ${cur:0:${#cur}-${#typed}} == *[@\$] ]] && typed=${cur:${#cur}-${#typed}-1}
    local skip=$((${#cur} - ${#typed})) answer kind prefix
    COMPREPLY=()
    while IFS= read -r answer; do
        if [[ $answer == $'\t'* ]]; then
            kind=${answer:1}
        else
            answer=${answer:skip}
            COMPREPLY+=("${answer// /\\ }")
        fi
    done < <(command credproc completion bash -- "${words[@]:1}" 2>/dev/null)
    case $kind in
    files*)
        prefix=${kind#files$'\t'}
        # -o filenames quotes names and marks directories, but it would escape @FILE's @.
        local mark=/
        ((skip >= ${#prefix})) && compopt -o filenames 2>/dev/null && mark=
        while IFS= read -r answer; do
            [[ -d $answer ]] && answer+=$mark
            answer=$prefix$answer
            COMPREPLY+=("${answer:skip}")
        done < <(compgen -f -- "${cur:${#prefix}}")
        ;;
    command)
        for ((i = 1; i < COMP_CWORD; i++)); do [[ ${COMP_WORDS[i]} == -- ]] && break; done
        if declare -F _command_offset >/dev/null; then
            _command_offset $((i + 1))  # bash-completion: the command's own completion
        elif ((COMP_CWORD == i + 1)); then
            mapfile -t COMPREPLY < <(compgen -c -- "$typed" | sort -u)
        else
            compopt -o default 2>/dev/null
        fi
        ;;
    esac
    if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == */ ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -F _credproc credproc
"""

ZSH = r"""#compdef credproc
# credproc completion for zsh. Load it from ~/.zshrc, after compinit:
#     source <(credproc completion zsh)
# or save it as _credproc in a directory of your $fpath, before compinit runs:
#     credproc completion zsh > ~/.zfunc/_credproc    # with fpath=(~/.zfunc $fpath)
_credproc() {
    local -a answers matches shown
    local answer word kind
    local -a asked=("${(@Q)words[2,CURRENT-1]}" "${(Q)PREFIX}")
    answers=("${(@f)$(command credproc completion zsh -- "${asked[@]}" 2>/dev/null)}")
    for answer in "${answers[@]}"; do
        if [[ $answer == $'\t'* ]]; then
            kind=${answer:1}
        elif [[ -n $answer ]]; then
            word=${answer%%$'\t'*}
            matches+=("$word")
            if [[ $answer == *$'\t'* ]]; then
                shown+=("$word  -- ${answer#*$'\t'}")
            else
                shown+=("$word")
            fi
        fi
    done
    case $kind in
    files*)
        local prefix=${kind#files$'\t'}
        compset -P "${(b)prefix}"
        _files
        ;;
    command)
        local dashes=${words[(i)--]}
        shift $dashes words
        (( CURRENT -= dashes ))
        _normal
        ;;
    *)
        (( ${#matches} )) && compadd -l -d shown -a matches
        ;;
    esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _credproc "$@"  # autoloaded from $fpath
else
    compdef _credproc credproc  # sourced
fi
"""

FISH = r"""# credproc completion for fish. Save it where fish looks for it:
#     credproc completion fish > ~/.config/fish/completions/credproc.fish
# or load it for this session:
#     credproc completion fish | source
function __credproc_complete
    set -l words (commandline -opc)[2..-1]
    set -l current (commandline -ct)
    set -l answers (command credproc completion fish -- $words "$current" 2>/dev/null)
    for answer in $answers
        if string match -q -- \t'files*' $answer
            set -l prefix (string replace -- \tfiles\t '' $answer)
            set -l rest (string sub -s (math (string length -- "$prefix") + 1) -- "$current")
            for path in (__fish_complete_path "$rest")
                printf '%s%s\n' $prefix $path
            end
        else if test "$answer" = \tcommand
            set -l after (contains -i -- -- $words)
            set -l line (string escape -- $words[(math $after + 1)..-1]) "$current"
            complete -C (string join ' ' -- $line)
        else
            printf '%s\n' $answer
        end
    end
end
complete -c credproc -f -a '(__credproc_complete)'
"""

SCRIPTS = dict(zip(SHELLS, (BASH, ZSH, FISH), strict=True))


def run(args: argparse.Namespace) -> int:
    if not args.command_line:
        sys.stdout.write(SCRIPTS[args.shell])
        return 0
    found = complete(args.command_line, os.environ)
    sys.stdout.write(render(found, describe=args.shell != "bash"))
    return 0


def render(found: Completions, *, describe: bool) -> str:
    """The answer the scripts read, one line each."""
    if found.command:
        return "\tcommand\n"
    if found.files is not None:
        return f"\tfiles\t{found.files}\n"
    lines = []
    for candidate in found.words:
        description = " ".join(candidate.description.split()) if describe else ""
        lines.append(f"{candidate.word}\t{description}" if description else candidate.word)
    return "".join(line + "\n" for line in lines)
