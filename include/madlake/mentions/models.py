"""The enrichment output contract, shared by the LLM and the lexicon paths: pydantic, frozen, no extra fields."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SentimentLabel = Literal["very_negative", "negative", "neutral", "positive", "very_positive"]
UsageKind = Literal["first_hand", "question", "comparison", "job_listing", "other"]
Method = Literal["llm", "lexicon"]

#: Contiguous, non-overlapping bands covering [-1, 1] (the seed's had holes): upper bounds, inclusive on the side
#: that keeps neutral symmetric: very_negative [-1, -0.6), negative [-0.6, -0.2), neutral [-0.2, 0.2],
#: positive (0.2, 0.6], very_positive (0.6, 1].
LABEL_BANDS = (
    "very_negative [-1,-0.6) | negative [-0.6,-0.2) | neutral [-0.2,0.2] | positive (0.2,0.6] | very_positive (0.6,1]"
)


def sentiment_label(score: float) -> SentimentLabel:
    """The band of ``score``; raise ValueError outside [-1, 1] (or NaN)."""
    if not -1.0 <= score <= 1.0:
        raise ValueError(f"sentiment score {score!r} is outside [-1, 1]")
    if score < -0.6:
        return "very_negative"
    if score < -0.2:
        return "negative"
    if score <= 0.2:
        return "neutral"
    if score <= 0.6:
        return "positive"
    return "very_positive"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolAssessment(_Strict):
    """What one text says about one tool (the LLM's answer per tool, and the lexicon's)."""

    tool_id: str = Field(description="one of the tool ids you were asked about, exactly as given")
    summary: str = Field(min_length=1, max_length=400, description="one sentence: what the text says about the tool")
    sentiment_score: float = Field(ge=-1.0, le=1.0, description="-1 very negative .. 0 neutral .. 1 very positive")
    usage_kind: UsageKind = Field(
        description="first_hand: the writer uses/used it; question: asks about it; comparison: weighs it against "
        "another tool; job_listing: a job ad or salary stack listing; other"
    )


class Assessment(_Strict):
    """The LLM's whole answer for one text: one entry per tool asked about."""

    tools: list[ToolAssessment]


class Enrichment(_Strict):
    """One enriched (text, tool) pair, ready for ``reddit_mentions``."""

    tool_id: str
    summary: str
    sentiment_score: float
    sentiment_label: SentimentLabel
    usage_kind: UsageKind
    method: Method
    model: str
    prompt_version: str

    @classmethod
    def from_assessment(cls, a: ToolAssessment, method: Method, model: str, prompt_version: str) -> Enrichment:
        return cls(
            tool_id=a.tool_id,
            summary=a.summary.strip(),
            sentiment_score=round(a.sentiment_score, 4),
            sentiment_label=sentiment_label(a.sentiment_score),
            usage_kind=a.usage_kind,
            method=method,
            model=model,
            prompt_version=prompt_version,
        )
