"""Pure video rules: captions, visibility, tag limits, byte ranges, output geometry."""

from __future__ import annotations

import re
from dataclasses import dataclass

OUTPUT_WIDTH = 720
OUTPUT_HEIGHT = 1280
PREVIEW_WIDTH = 180
PREVIEW_HEIGHT = 320
PREVIEW_SECONDS = 3.0
MAX_TAGS = 6
MAX_CAPTION = 2200

STATUSES: tuple[str, ...] = ("processing", "ready", "failed")
VISIBILITIES: tuple[str, ...] = ("public", "followers", "private")
GROUNDS: tuple[str, ...] = ("own_shop", "affiliate_collaboration")

# A hashtag is a run of letters, digits and underscores (any script) after '#' that is not
# glued to a preceding word character: "a#b" is not a tag, "#café" is.
_HASHTAG = re.compile(r"(?<![\w#])#(\w{1,100})")
# Mentions follow account handles: letters, digits, '_' and inner dots, up to 30 characters.
_MENTION = re.compile(r"(?<![\w@.])@([a-z0-9_](?:[a-z0-9_.]{0,28}[a-z0-9_])?)", re.IGNORECASE)


@dataclass(frozen=True)
class CaptionPart:
    """One run of a caption: plain text, a #hashtag or an @mention (value without the sign)."""

    kind: str  # "text" | "hashtag" | "mention"
    text: str
    value: str = ""


def parse_caption(caption: str) -> list[CaptionPart]:
    """Split a caption into text, hashtag and mention parts (in order, nothing lost)."""
    matches: list[tuple[int, int, str, str]] = []
    for match in _HASHTAG.finditer(caption):
        matches.append((match.start(), match.end(), "hashtag", match.group(1).lower()))
    for match in _MENTION.finditer(caption):
        matches.append((match.start(), match.end(), "mention", match.group(1).lower()))
    matches.sort()
    parts: list[CaptionPart] = []
    position = 0
    for start, end, kind, value in matches:
        if start < position:
            continue  # overlapping match (cannot happen with these patterns, but be safe)
        if start > position:
            parts.append(CaptionPart("text", caption[position:start]))
        parts.append(CaptionPart(kind, caption[start:end], value))
        position = end
    if position < len(caption):
        parts.append(CaptionPart("text", caption[position:]))
    return parts


def hashtags(caption: str) -> list[str]:
    """The distinct hashtags of a caption, lower case, in order of first use."""
    seen: dict[str, None] = {}
    for part in parse_caption(caption):
        if part.kind == "hashtag":
            seen.setdefault(part.value, None)
    return list(seen)


def mentions(caption: str) -> list[str]:
    """The distinct @handles mentioned in a caption, lower case, in order of first use."""
    seen: dict[str, None] = {}
    for part in parse_caption(caption):
        if part.kind == "mention":
            seen.setdefault(part.value, None)
    return list(seen)


def normalize_hashtag(raw: str) -> str | None:
    """A hashtag as stored (no '#', lower case), or None when it is not a valid tag."""
    name = raw.strip().removeprefix("#").lower()
    return name if re.fullmatch(r"\w{1,100}", name) else None


def caption_problems(caption: str) -> list[str]:
    """Why a caption cannot be used; empty when it can."""
    if len(caption) > MAX_CAPTION:
        return [f"A caption can be at most {MAX_CAPTION} characters."]
    return []


def duration_problems(duration: float | None, *, minimum: float, maximum: float) -> list[str]:
    """Why a probed duration is refused; empty when it is fine."""
    if duration is None or duration != duration or duration <= 0:
        return ["We could not tell how long this video is; it may be damaged."]
    if duration < minimum:
        return [f"This video is too short (it must last at least {minimum:g} seconds)."]
    if duration > maximum:
        return [f"This video lasts {duration:.0f} seconds; the limit is {maximum:.0f} seconds."]
    return []


def cover_time_problems(cover_time: float, duration: float | None) -> list[str]:
    """Why a cover frame time cannot be used."""
    if cover_time < 0:
        return ["The cover time cannot be negative."]
    if duration is not None and cover_time > duration:
        return [f"The cover time must be within the video (0 to {duration:.1f} seconds)."]
    return []


def tag_range_problems(start: float | None, end: float | None, duration: float | None) -> list[str]:
    """Why a tag's time range is refused; both ends are optional."""
    if start is not None and start < 0:
        return ["A tag cannot start before the video does."]
    if end is not None and end <= (start or 0):
        return ["A tag must end after it starts."]
    if duration is not None:
        if start is not None and start > duration:
            return [f"A tag must start within the video (0 to {duration:.1f} seconds)."]
        if end is not None and end > duration + 0.05:
            return [f"A tag must end within the video (0 to {duration:.1f} seconds)."]
    return []


def fit_inside(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """The even size of `width`x`height` scaled to fit the box, keeping its shape."""
    if width <= 0 or height <= 0:
        raise ValueError("a picture has a positive size")
    scale = min(box_width / width, box_height / height)
    fitted_width = max(2, round(width * scale / 2) * 2)
    fitted_height = max(2, round(height * scale / 2) * 2)
    return min(fitted_width, box_width), min(fitted_height, box_height)


class RangeNotSatisfiable(Exception):
    """A Range header that asks for no byte of the file."""


def parse_byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte a single-range `Range` header asks for, inclusive.

    None means "send the whole file" (no header, or one we do not understand, which RFC 9110
    lets a server ignore); RangeNotSatisfiable means answer 416."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash:
        return None
    first_text, last_text = first_text.strip(), last_text.strip()
    if not (first_text.isdigit() or first_text == "") or not (
        last_text.isdigit() or last_text == ""
    ):
        return None
    if first_text == "":
        if last_text == "":
            return None
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # malformed: ignore the header and send the whole file
    if first >= size:
        raise RangeNotSatisfiable
    last = int(last_text) if last_text else size - 1
    return first, min(last, size - 1)
