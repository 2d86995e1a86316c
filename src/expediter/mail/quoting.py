"""Separating what a person just wrote from what they quoted and signed.

Agents read a ticket as a conversation; every reply repeating the whole thread
below it buries the new text. These functions only decide what to collapse
for display: the full text is always kept by the caller. They work line by
line with anchored patterns, so their time is linear in the text (mail is
hostile input, and a backtracking pattern would be a denial of service).

Recognised: attribution lines ("On ... wrote:", "Le ... a écrit :", "Am ...
schrieb ...:" and their Dutch, Nordic, Polish, Spanish, Italian, Portuguese
and Vietnamese forms), "-----Original Message-----" separators, Outlook header
blocks ("From: ... Sent: ..." in several languages), ``>`` quote blocks,
``-- `` signature separators, mobile signatures ("Sent from my iPhone") and
signatures starting with the sender's name. A forwarded message is content,
not a quotation, and is never collapsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MAX_LINES = 5_000
_ATTRIBUTION_SPAN = 5
_SIGNATURE_WINDOW = 30
_NAME_SIGNATURE_WINDOW = 12
_MAX_SIGNATURE_LINE = 60

_ORIGINAL_MESSAGE = re.compile(
    r"""^[\s*_]*-{2,}\s*(?:original\s+message|reply\s+message|ursprüngliche\s+nachricht
      |antwort\s+nachricht|oprindelig\s+meddelelse|message\s+d'origine|mensaje\s+original
      |messaggio\s+originale|oorspronkelijk\s+bericht|originalmeddelande|opprinnelig\s+melding
      |alkuperäinen\s+viesti|wiadomość\s+oryginalna|původní\s+zpráva|eredeti\s+üzenet
      |mensagem\s+original|исходное\s+сообщение)\s*-{2,}[\s*_]*$""",
    re.IGNORECASE | re.VERBOSE,
)
_FORWARDED = re.compile(
    r"""^[\s>*]*(?:-{2,}\s*(?:forwarded\s+message|weitergeleitete\s+nachricht|message\s+transféré
      |mensaje\s+reenviado|messaggio\s+inoltrato|doorgestuurd\s+bericht)\s*-{2,}
      |begin\s+forwarded\s+message:|début\s+du\s+message\s+réexpédié\s*:
      |anfang\s+der\s+weitergeleiteten\s+nachricht:)\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_OPENER = r"(?-i:On|Le|Am|Op|Den|På|W\s+dniu|El|Il|Em|Vào|Dne|В)"
_VERB = (
    r"(?:wrote|sent|writes|a\s+écrit|schrieb|schreef|het\s+volgende\s+geschreven|skrev"
    r"|napisał(?:a|\(a\))?|pisze|escribió|ha\s+scritto|escreveu|đã\s+viết|napsal(?:a)?"
    r"|написал(?:а)?|kirjoitti)"
)
_OPENER_AT = re.compile(rf"(?:^|(?<=\s)|(?<=-)){_OPENER}\b")
_VERB_WORD = re.compile(rf"\b{_VERB}", re.IGNORECASE)
_AFTER_VERB = re.compile(r"(?:\s*:|\s+[^:]{1,150}:)?\s*-*\s*$")
_DASHED_ATTRIBUTION = re.compile(rf"^-{{2,}}\s*\S.{{0,80}}\b{_VERB}\s*-{{2,}}\s*$", re.IGNORECASE)
_ADDRESS_COLON_END = re.compile(r"<[^<>\s]+@[^<>\s]+>\s*:\s*$")
_DATE_ADDRESS = re.compile(
    r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.{0,120}?<?[^\s<>]+@[^\s<>]+>?\s*:?\s*$|"
    r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.{0,120}<\s*$"
)
_OPENER_ANYWHERE = re.compile(rf"(?:^|[\s-]){_OPENER}\b", re.IGNORECASE)
_QUOTED_VERB = re.compile(rf"^\s*>\s*{_VERB}\s*:?\s*$", re.IGNORECASE)
_HEADER_NAME = re.compile(r"^\s*\*?\s*([^\W\d_][\w -]{0,20}?)\s*:\*?(?:\s|$)", re.UNICODE)
_FROM_NAMES = frozenset({"from", "von", "de", "fra", "från", "van", "od", "da", "от", "lähettäjä"})
_RUSSIAN_HEADER_NAMES = frozenset({"отправлено", "кому", "тема", "копия", "дата"})
_DATE_NAMES = frozenset(
    {
        "date", "sent", "datum", "gesendet", "envoyé", "sendt", "skickat",
        "verzonden", "enviado", "inviato", "data", "wysłano",
    }
)  # fmt: skip
_OTHER_HEADER_NAMES = frozenset(
    {
        "to", "cc", "subject", "an", "betreff", "à", "objet", "til", "emne", "till",
        "ämne", "aan", "onderwerp", "para", "asunto", "a", "oggetto", "do", "temat",
        "reply-to", "kopie",
    }
)  # fmt: skip
_HEADER_NAMES = _FROM_NAMES | _DATE_NAMES | _OTHER_HEADER_NAMES | _RUSSIAN_HEADER_NAMES
_HEADER_BLOCK_SPAN = 8
_DATE_OR_ADDRESS = re.compile(r"\d|@")
_MAX_ATTRIBUTION = 400
_MAX_ATTRIBUTION_SPAN = 300
_VERB_TAIL_CHARS = 200
_VERB_CANDIDATES = 3
_VERB_STEMS = (
    "wrote", "sent", "writes", "écrit", "schrieb", "schreef", "geschreven", "skrev",
    "napisał", "napisała", "napisał(a)", "pisze", "escribió", "scritto", "escreveu", "viết",
    "napsal", "napsala", "написал", "написала", "kirjoitti",
)  # fmt: skip
_QUOTE_MARK = re.compile(r"^\s*>")
_LINK_FRAGMENT = re.compile(r"^\s*(?:\(?https?://\S*\)?\s*>?|[^\s]*[=/&?][^\s]*\)?)\s*$")
_SIGNATURE_DASHES = re.compile(r"^(?:--|__+|-{3,}|_{3,})\s*$")
_SIGNATURE_INITIAL_DASH = re.compile(r"^-[^\W\d_]")
_MOBILE_SIGNATURE = re.compile(
    r"""^\s*(?:sent\s+from\s+(?:my\s+|mail\s+for\s+|outlook|yahoo|samsung|aol)|sent\s+with\s+\w
      |get\s+outlook\s+for|sent\s+via\s+\w|envoyé\s+(?:de|depuis)\s+mon|von\s+meinem\s+\S+.*gesendet
      |enviado\s+desde\s+mi|inviato\s+da\s+(?:il\s+mio\s+)?\w|verzonden\s+(?:vanaf|met)\s+mijn
      |sendt\s+fra\s+min|skickat\s+från\s+min|lähetetty\s+\w)""",
    re.IGNORECASE | re.VERBOSE,
)
_SIGN_OFF = re.compile(
    r"""^\s*(?:thanks|thank\s+you|many\s+thanks|regards|best(?:\s+regards|\s+wishes)?
      |kind\s+regards|warm\s+regards|cheers|sincerely|yours|merci|cordialement|bien\s+à\s+vous
      |grüße|gruß|viele\s+grüße|mit\s+freundlichen\s+grüßen|lg|mfg|saludos|cordiali\s+saluti
      |met\s+vriendelijke\s+groet)[\s,.!]*$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Cut:
    """Where the collapsed text starts: a line, and a column in that line
    when the reply and the quotation share it."""

    line: int
    column: int = 0


def split_reply(text: str, *, sender_name: str | None = None) -> tuple[str, str]:
    """``(new_text, quoted_tail)``: the text a person just wrote, and what to
    collapse under it (signature, then quotations).

    ``new_text`` keeps everything that is neither quoted nor signature, even
    text written after a quotation; ``quoted_tail`` holds the rest in order.
    ``sender_name`` (a display name or an address) lets a signature that
    starts with the sender's name be recognised.
    """
    visible, quoted = split_quotation(text)
    body, signature = split_signature(visible, sender_name=sender_name)
    if signature:
        body, exposed = split_quotation(body)
        signature = _join(exposed, signature)
    return body, _join(signature, quoted)


def split_quotation(text: str) -> tuple[str, str]:
    """``(visible, quoted)``: the reply without the quoted message(s)."""
    lines = _lines(text)
    if len(lines) > _MAX_LINES:
        return text.strip(), ""
    hidden = _hidden_lines(lines)
    if hidden is None:
        return text.strip(), ""
    cut, stop = hidden
    head = lines[: cut.line] + ([lines[cut.line][: cut.column]] if cut.column else [])
    quoted_first = lines[cut.line][cut.column :]
    visible = [*head, *lines[stop:]]
    quoted = [quoted_first, *lines[cut.line + 1 : stop]]
    return _tidy(visible), _tidy(quoted)


def split_signature(text: str, *, sender_name: str | None = None) -> tuple[str, str]:
    """``(body, signature)``: the text without its trailing signature."""
    lines = _lines(text.rstrip())
    start = _signature_start(lines, sender_name)
    if start is None:
        return text.strip(), ""
    body = _tidy(lines[:start])
    if not body:
        return text.strip(), ""
    return body, _tidy(lines[start:])


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _tidy(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n").rstrip()


def _join(first: str, second: str) -> str:
    return "\n\n".join(part for part in (first, second) if part)


# --- quotations -----------------------------------------------------------------


def _hidden_lines(lines: list[str]) -> tuple[_Cut, int] | None:
    """The collapsed range: from a cut to a stop line (exclusive)."""
    kinds = [_line_kind(line) for line in lines]
    first_quote = kinds.index("q") if "q" in kinds else len(lines)
    for index in range(min(first_quote + 1, len(lines))):
        if kinds[index] == "q":
            break
        if _FORWARDED.match(lines[index]):
            return None
        splitter = _splitter_at(lines, kinds, index)
        if splitter is not None:
            return _range_after(kinds, *splitter)
    if first_quote < len(lines):
        return _quote_range(kinds, first_quote)
    return None


def _line_kind(line: str) -> str:
    """``q`` quoted, ``e`` empty, ``l`` a link fragment, ``t`` text.

    A lone "> wrote:" ends a wrapped attribution (``<\nmailto:...\n>
    wrote:``) and is not a quotation.
    """
    if not line.strip():
        return "e"
    if _QUOTE_MARK.match(line) and not _QUOTED_VERB.match(line):
        return "q"
    if _LINK_FRAGMENT.match(line):
        return "l"
    return "t"


def _splitter_at(lines: list[str], kinds: list[str], index: int) -> tuple[_Cut, int] | None:
    """A splitter starting on line ``index``: its cut and the line after it."""
    line = lines[index]
    if _ORIGINAL_MESSAGE.match(line):
        return _Cut(index), index + 1
    header_end = _header_block_end(lines, index)
    if header_end is not None:
        return _Cut(_separator_above(lines, index)), header_end
    if not _may_start_attribution(line):
        return None
    # The lines are joined only when they could end an attribution: the joined
    # text ends as its last line with text does, and only grows with the span.
    length, last_text = -1, index
    for span in range(1, _ATTRIBUTION_SPAN + 1):
        end = index + span
        if end > len(lines) or "q" in kinds[index + 1 : end]:
            break
        part = lines[end - 1].strip()
        length += len(part) + 1
        if length > _MAX_ATTRIBUTION:
            break
        last_text = end - 1 if part else last_text
        if not _ends_like_attribution(lines[last_text]):
            continue
        joined = " ".join(part.strip() for part in lines[index:end])
        column = _attribution_column(joined, line)
        if column is not None:
            return _Cut(index, column), end
    return None


def _may_start_attribution(line: str) -> bool:
    """A cheap test that keeps the attribution patterns off ordinary lines."""
    stripped = line.lstrip()
    return bool(
        "@" in line
        or stripped[:1].isdigit()
        or stripped.startswith("--")
        or _OPENER_ANYWHERE.search(line)
    )


def _attribution_column(joined: str, first_line: str) -> int | None:
    """Where an attribution starts in ``first_line`` if ``joined`` is one."""
    if len(joined) > _MAX_ATTRIBUTION or not _ends_like_attribution(joined):
        return None
    start = _attribution_start(joined)
    if start is None:
        return None
    column = len(first_line) - len(first_line.lstrip()) + start
    if column >= len(first_line):
        return None
    while column > 0 and first_line[column - 1] in "- ":
        column -= 1
    return 0 if not first_line[:column].strip() else column


def _ends_like_attribution(joined: str) -> bool:
    """Every attribution ends with a colon, an address, a dashed rule or its
    verb: a plain substring test keeps the patterns off ordinary lines."""
    tail = joined.rstrip()[-_VERB_TAIL_CHARS:].lower()
    return tail.endswith((":", ">", "-")) or tail.endswith(_VERB_STEMS)


def _final_verb(text: str) -> int | None:
    """Offset of the verb that ends an attribution ("wrote:", "schrieb Bob:")."""
    offset = max(0, len(text) - _VERB_TAIL_CHARS)
    tail = text[offset:].lower()
    if not any(stem in tail for stem in _VERB_STEMS):
        return None
    candidates = list(_VERB_WORD.finditer(text, offset))[-_VERB_CANDIDATES:]
    return next((m.start() for m in reversed(candidates) if _AFTER_VERB.match(text, m.end())), None)


def _attribution_start(joined: str) -> int | None:
    """Offset of an attribution in ``joined`` (its lines stripped and joined).

    Found from its end, which every form shares: the verb ("wrote:"), an
    address and a colon, or a dashed rule. An opener-verb attribution must
    contain a digit or an address (a date, the author's mail), so that "On
    Monday I sent:" stays part of the reply.
    """
    stripped = joined.strip()
    verb = _final_verb(stripped)
    if verb is not None:
        opener = next(
            (
                m.start()
                for m in _OPENER_AT.finditer(stripped, 0, verb)
                if verb - m.start() <= _MAX_ATTRIBUTION_SPAN
            ),
            None,
        )
        if opener is not None and _DATE_OR_ADDRESS.search(stripped, opener, verb):
            return opener
        if "@" in stripped[:verb]:
            return 0
    if stripped.endswith("-") and _DASHED_ATTRIBUTION.match(stripped):
        return 0
    if stripped[:1].isdigit() and _DATE_ADDRESS.match(stripped):
        return 0
    if _ADDRESS_COLON_END.search(stripped) and any(ch.isdigit() for ch in stripped):
        return 0
    return None


def _separator_above(lines: list[str], index: int) -> int:
    """Include an Outlook rule (dashes or underscores) just above a header block."""
    for above in range(index - 1, max(-1, index - 3), -1):
        if _SIGNATURE_DASHES.match(lines[above].strip()):
            return above
        if lines[above].strip():
            break
    return index


def _header_block_end(lines: list[str], index: int) -> int | None:
    """End of an Outlook-style header block starting with From or Date."""
    first = _header_name(lines[index])
    if first not in _FROM_NAMES and first not in _DATE_NAMES:
        return None
    names = {first}
    end = index + 1
    for offset in range(index + 1, min(len(lines), index + _HEADER_BLOCK_SPAN)):
        name = _header_name(lines[offset])
        if name in _HEADER_NAMES:
            names.add(name)
            end = offset + 1
    known = names & _HEADER_NAMES
    return end if len(known) >= 2 else None


def _header_name(line: str) -> str | None:
    match = _HEADER_NAME.match(line)
    return match.group(1).strip().lower() if match else None


def _range_after(kinds: list[str], cut: _Cut, end: int) -> tuple[_Cut, int] | None:
    """After a splitter: unquoted text (Outlook) collapses to the end; a ``>``
    block collapses with the splitter, see :func:`_block_range`."""
    following = next((i for i in range(end, len(kinds)) if kinds[i] != "e"), None)
    if following is None or kinds[following] != "q":
        return cut, len(kinds)
    return _block_range(kinds, cut, _quote_block_end(kinds, following))


def _quote_range(kinds: list[str], first_quote: int) -> tuple[_Cut, int] | None:
    block_end = _quote_block_end(kinds, first_quote)
    quoted_lines = kinds[first_quote:block_end].count("q")
    has_text_after = _has_text(kinds[block_end:])
    if quoted_lines < 2 and has_text_after and first_quote > 0:
        return None
    return _block_range(kinds, _Cut(first_quote), block_end)


def _block_range(kinds: list[str], cut: _Cut, block_end: int) -> tuple[_Cut, int] | None:
    """What to collapse from a first quote block.

    Only blank lines after it: collapse to the end. Text after it and no
    further quote: the reply wraps the quotation, collapse the block alone.
    Text then more quotes: an interleaved reply, shown whole except for a
    final quote block.
    """
    rest = kinds[block_end:]
    if not _has_text(rest):
        return cut, len(kinds)
    if "q" not in rest:
        return cut, next(i for i in range(block_end, len(kinds)) if kinds[i] != "e")
    last = max(i for i, kind in enumerate(kinds) if kind != "e")
    if kinds[last] != "q":
        return None
    start = last
    while start > block_end and kinds[start - 1] in "qe":
        start -= 1
    while start < last and kinds[start] == "e":
        start += 1
    return _Cut(start), len(kinds)


def _has_text(kinds: list[str]) -> bool:
    return "t" in kinds or "l" in kinds


def _quote_block_end(kinds: list[str], start: int) -> int:
    """The line after the last ``>`` line of the block starting at ``start``.

    A wrapped link line between two quoted lines (``l`` kind) stays in the
    block: clients break long URLs without repeating the ``>``.
    """
    end = start
    for index in range(start, len(kinds)):
        if kinds[index] == "q":
            end = index + 1
        elif kinds[index] == "l" and index + 1 < len(kinds) and kinds[index + 1] == "q":
            continue
        elif kinds[index] != "e":
            break
    return end


# --- signatures -----------------------------------------------------------------


def _signature_start(lines: list[str], sender_name: str | None) -> int | None:
    last = len(lines)
    window_start = max(0, last - _SIGNATURE_WINDOW)
    candidates = [i for i, line in enumerate(lines) if line == "-- "]
    for index in range(window_start, last):
        line = lines[index]
        if (
            _SIGNATURE_DASHES.match(line)
            or _MOBILE_SIGNATURE.match(line)
            or (_SIGNATURE_INITIAL_DASH.match(line) and len(line) <= _MAX_SIGNATURE_LINE)
        ):
            candidates.append(index)
    named = _name_signature_start(lines, sender_name)
    if named is not None:
        candidates.append(named)
    usable = [c for c in candidates if any(line.strip() for line in lines[:c])]
    return min(usable) if usable else None


def _name_signature_start(lines: list[str], sender_name: str | None) -> int | None:
    """A short closing block that starts with the sender's name (or a sign-off
    just above it)."""
    tokens = _name_tokens(sender_name)
    if not tokens:
        return None
    last = len(lines)
    for index in range(max(0, last - _NAME_SIGNATURE_WINDOW), last):
        words = re.findall(r"[^\W\d_]+", lines[index].lower())[:2]
        if not tokens.intersection(words) or len(lines[index]) > _MAX_SIGNATURE_LINE:
            continue
        if any(len(line) > _MAX_SIGNATURE_LINE for line in lines[index:]):
            continue
        above = next((i for i in range(index - 1, -1, -1) if lines[i].strip()), None)
        if above is not None and above == index - 1 and _SIGN_OFF.match(lines[above]):
            return above
        return index
    return None


def _name_tokens(sender_name: str | None) -> frozenset[str]:
    if not sender_name:
        return frozenset()
    name = sender_name.split("@", 1)[0] if "@" in sender_name else sender_name
    return frozenset(w for w in re.findall(r"[^\W\d_]+", name.lower()) if len(w) >= 2)
