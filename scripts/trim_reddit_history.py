"""Trim the recorded Reddit history to the fields madlake reads, keeping the layout and the file names.

    python scripts/trim_reddit_history.py SRC DST [--budget-mb 9.0] [--max-file-mb 5]

``SRC`` and ``DST`` are Reddit replay folders laid out like the shared history (``SRC/localllama/listings/…``,
``SRC/localllama/comments/<id>.json.gz``, ``SRC/dataengineering_salary_threads/…``). Every record keeps only the fields
that :mod:`madlake.models.reddit` and :mod:`madlake.sources.reddit.parse` read (plus the envelope: ``kind``,
``data.children``, ``after``/``before``, ``replies``, the ``more`` stubs); values are never changed. Output is gzip -9.

Every listing and every salary thread is kept. Comment trees are kept day by day, oldest recorded day first: the trees
of the posts listed on a day are added while the whole output stays within ``--budget-mb``; the first day that does not
fit ends the tree subset (so the bundle holds every tree of a contiguous run of days, documented in
``DST/TREES.md``). Trees of posts listed in ``--exclude-listing`` captures (default: the newest one, whose day the flat
demo recording covers) are never bundled, so that day replays exactly as before.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any

THING = {
    "id", "name", "subreddit", "created_utc", "author", "score", "gilded", "stickied", "edited", "permalink",
    "removed_by_category", "removed", "spam",
}  # fmt: skip
SUBMISSION = THING | {
    "title", "selftext", "upvote_ratio", "num_comments", "url", "domain", "link_flair_text", "is_self", "over_18",
    "locked",
}  # fmt: skip
COMMENT = THING | {
    "body", "link_id", "parent_id", "depth", "nest_level", "controversiality", "is_submitter", "author_flair_text",
    "replies",
}  # fmt: skip
MORE = {"id", "name", "parent_id", "depth", "count", "children"}
LISTING = {"after", "before", "dist", "children"}
_LISTING_NAME = re.compile(r"^new_(\d{8})T\d{4}_[0-9a-f]+\.json\.gz$")


def trim_listing(listing: Any) -> Any:
    if not isinstance(listing, dict) or not isinstance(listing.get("data"), dict):
        return listing
    data = {k: v for k, v in listing["data"].items() if k in LISTING}
    data["children"] = [trim_thing(c) for c in listing["data"].get("children") or []]
    return {"kind": listing.get("kind"), "data": data}


def trim_thing(node: Any) -> Any:
    if not isinstance(node, dict) or not isinstance(node.get("data"), dict):
        return node
    kind = node.get("kind")
    keep = {"t3": SUBMISSION, "t1": COMMENT, "more": MORE}.get(str(kind))
    if keep is None:
        return node
    data = {k: v for k, v in node["data"].items() if k in keep}
    if kind == "t1" and isinstance(data.get("replies"), dict):
        data["replies"] = trim_listing(data["replies"])
    return {"kind": kind, "data": data}


def trim_response(body: Any) -> Any:
    """A Listing, or a ``[Listing(t3), Listing(t1)]`` comments answer, with only the read fields."""
    if isinstance(body, list):
        return [trim_listing(b) for b in body]
    return trim_listing(body)


def _read(path: Path) -> Any:
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)


def _write(path: Path, body: Any) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", errors="backslashreplace")
    path.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--budget-mb", type=float, default=9.0, help="total size of DST's history files")
    parser.add_argument("--max-file-mb", type=float, default=5.0)
    parser.add_argument("--exclude-listing", action="append", help="listing file name(s) whose trees are not bundled")
    args = parser.parse_args(argv)
    src, dst = args.src, args.dst
    budget = int(args.budget_mb * 1e6)
    total = 0

    listings = sorted((src / "localllama" / "listings").glob("new_*.json.gz"))
    if not listings:
        print(f"error: no listings under {src}/localllama/listings", file=sys.stderr)
        return 1
    by_day: dict[str, list[str]] = {}
    for f in listings:
        body = _read(f)
        total += _write(dst / "localllama" / "listings" / f.name, trim_response(body))
        day = _LISTING_NAME.match(f.name)
        ids = [c["data"]["id"] for c in body["data"]["children"]]
        by_day.setdefault(day.group(1) if day else f.name, []).extend(ids)
    for f in sorted((src / "dataengineering_salary_threads").glob("*.json.gz")):
        total += _write(dst / "dataengineering_salary_threads" / f.name, trim_response(_read(f)))
    print(f"{len(listings)} listings and the salary threads: {total / 1e6:.2f} MB")

    excluded: set[str] = set()
    for name in args.exclude_listing if args.exclude_listing is not None else [listings[-1].name]:
        excluded |= {c["data"]["id"] for c in _read(src / "localllama" / "listings" / name)["data"]["children"]}
    comments_dir = src / "localllama" / "comments"
    done: set[str] = set()
    days_kept: list[str] = []
    for day in sorted(by_day):
        todo = [i for i in dict.fromkeys(by_day[day]) if i not in done and i not in excluded]
        trimmed = {
            i: trim_response(_read(comments_dir / f"{i}.json.gz"))
            for i in todo
            if (comments_dir / f"{i}.json.gz").is_file()
        }
        sizes = {
            i: len(
                gzip.compress(
                    json.dumps(b, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace"), 9
                )
            )
            for i, b in trimmed.items()
        }
        if total + sum(sizes.values()) > budget:
            print(f"{day}: {len(trimmed)} trees ({sum(sizes.values()) / 1e6:.2f} MB) would exceed the budget: stop")
            break
        for i, b in trimmed.items():
            if sizes[i] > args.max_file_mb * 1e6:
                print(f"error: {i} trimmed is {sizes[i] / 1e6:.1f} MB", file=sys.stderr)
                return 1
            total += _write(dst / "localllama" / "comments" / f"{i}.json.gz", b)
        done |= set(trimmed)
        days_kept.append(day)
        print(f"{day}: +{len(trimmed)} trees, {total / 1e6:.2f} MB")
    span = f"{days_kept[0]} .. {days_kept[-1]}" if days_kept else "none"
    (dst / "TREES.md").write_text(
        "# Bundled comment trees (written by scripts/trim_reddit_history.py)\n\n"
        f"Every listing is bundled; the comment trees are those of the posts listed on the recorded days {span} "
        f"({len(done)} trees), except the posts of {', '.join(args.exclude_listing or [listings[-1].name])} "
        "(the flat demo recording covers that day). Other days replay their listings; their trees answer 404 and are "
        "reported as skipped. `MADLAKE_REPLAY_DIR` pointed at the full history replays every tree.\n"
    )
    print(f"total {total / 1e6:.2f} MB; trees of days {span} ({len(done)} trees)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
