# bash completion for tunnelctl(8). Words typed as prefixes (`sh cry`) are
# read the way tunnelctl reads them: each stands for the one word it begins.

# The words that may follow a phrase of full words.
_tunnelctl_next()
{
    case "$1" in
    "") echo "show clear reload log-level help" ;;
    show) echo "crypto tunnels status" ;;
    "show crypto") echo "isakmp ipsec map" ;;
    "show crypto isakmp" | "show crypto ipsec") echo "sa" ;;
    "show crypto ipsec sa" | "clear crypto sa" | "clear crypto isakmp") echo "peer" ;;
    clear) echo "crypto" ;;
    "clear crypto") echo "sa isakmp" ;;
    log-level) echo "debug info notice warning err" ;;
    esac
}

_tunnelctl()
{
    local cur prev phrase="" word w hits i
    COMPREPLY=()
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD - 1]}"

    case "$prev" in
    --socket)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --timeout) return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "--json --socket --timeout --help" -- "$cur"))
        return
    fi

    # The command words so far, each prefix resolved to its word; options skipped.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        case "$word" in
        --socket | --timeout) ((i++)); continue ;;
        -*) continue ;;
        esac
        hits=()
        for w in $(_tunnelctl_next "$phrase"); do
            if [[ "${w,,}" == "${word,,}" ]]; then
                hits=("$w")
                break
            fi
            [[ "${w,,}" == "${word,,}"* ]] && hits+=("$w")
        done
        # An unknown or ambiguous word, or an argument (peer's ADDR): nothing to offer.
        ((${#hits[@]} == 1)) || return
        phrase="${phrase:+$phrase }${hits[0]}"
    done
    COMPREPLY=($(compgen -W "$(_tunnelctl_next "$phrase")" -- "$cur"))
}

complete -F _tunnelctl tunnelctl
