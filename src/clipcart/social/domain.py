"""Pure social rules: report reasons, share channels, comment and collection limits."""

from __future__ import annotations

import secrets

from clipcart.media.domain import mentions

REPORT_TARGETS: tuple[str, ...] = ("video", "comment", "user", "product")
REPORT_REASONS: tuple[str, ...] = (
    "spam",
    "scam_or_fraud",
    "harassment",
    "hate",
    "violence",
    "nudity",
    "counterfeit",
    "misleading",
    "intellectual_property",
    "self_harm",
    "other",
)
REPORT_REASON_LABELS: dict[str, str] = {
    "spam": "Spam",
    "scam_or_fraud": "Scam or fraud",
    "harassment": "Harassment or bullying",
    "hate": "Hate speech",
    "violence": "Violence or dangerous acts",
    "nudity": "Nudity or sexual content",
    "counterfeit": "Counterfeit product",
    "misleading": "Misleading information",
    "intellectual_property": "Intellectual property",
    "self_harm": "Suicide or self-harm",
    "other": "Something else",
}
REPORT_STATUSES: tuple[str, ...] = ("open", "resolved", "dismissed")
SHARE_CHANNELS: tuple[str, ...] = (
    "link",
    "copy",
    "native",
    "email",
    "sms",
    "whatsapp",
    "telegram",
    "x",
    "facebook",
    "other",
)
MAX_COMMENT = 500
MAX_DETAILS = 1000
MAX_COLLECTION_NAME = 60
DEFAULT_COLLECTION = "Saved"
SHARE_CODE_BYTES = 6  # 8 url-safe characters

# (limit, window in seconds) per person (or address, for anonymous shares): generous for people,
# tight enough that a script cannot flood comments, inflate share counts or spam reports.
RATE_LIMITS: dict[str, tuple[int, int]] = {
    "comment": (30, 60),
    "share": (60, 60),
    "report": (20, 3600),
}


def new_share_code() -> str:
    """A short random share code (48 bits, url-safe)."""
    return secrets.token_urlsafe(SHARE_CODE_BYTES)


def share_url(video_id: object, code: str) -> str:
    """The link a share hands out: the video's page carrying who shared it."""
    return f"/v/{video_id}?s={code}"


def has_control_characters(text: str) -> bool:
    """True when `text` holds control characters other than tab and line breaks."""
    return any((ord(char) < 0x20 and char not in "\t\n\r") or char == "\x7f" for char in text)


def comment_problems(body: str) -> list[str]:
    """What is wrong with a comment's text (empty list when it is fine)."""
    text = body.strip()
    if has_control_characters(text):
        return ["Comments cannot contain control characters."]
    if not text:
        return ["Write something before posting."]
    if len(text) > MAX_COMMENT:
        return [f"Comments are at most {MAX_COMMENT} characters."]
    return []


def comment_mentions(body: str) -> list[str]:
    """The @handles a comment mentions (the caption parser's rule)."""
    return mentions(body)


def collection_name_problems(name: str) -> list[str]:
    """What is wrong with a collection name."""
    text = name.strip()
    if has_control_characters(text):
        return ["Collection names cannot contain control characters."]
    if not text:
        return ["Give the collection a name."]
    if len(text) > MAX_COLLECTION_NAME:
        return [f"Collection names are at most {MAX_COLLECTION_NAME} characters."]
    return []


def details_problems(details: str) -> list[str]:
    """What is wrong with a report's free-text details."""
    if has_control_characters(details):
        return ["Details cannot contain control characters."]
    if len(details) > MAX_DETAILS:
        return [f"Details are at most {MAX_DETAILS} characters."]
    return []
