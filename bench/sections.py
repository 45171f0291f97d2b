"""Keep each benchmark's results in its own section of BENCHMARKS.md."""

from pathlib import Path

THROUGHPUT_HEADING = "## Calls throughput"
WEBHOOKS_HEADING = "## Webhook deliveries"
# Sections that other benchmarks write, kept when the list benchmark rewrites
# the file.
OTHER_HEADINGS = (THROUGHPUT_HEADING, WEBHOOKS_HEADING)


def replace_section(path: Path, heading: str, section: str) -> None:
    """Write section in place of the part of path that starts at heading.

    The section runs to the next line starting with "## " or to the end.
    """
    text = path.read_text() if path.exists() else ""
    start = text.find(f"\n{heading}\n")
    if start < 0:
        updated = text.rstrip("\n") + "\n\n" + section.strip("\n") + "\n"
    else:
        end = text.find("\n## ", start + 1)
        rest = text[end:] if end >= 0 else ""
        updated = text[: start + 1] + section.strip("\n") + "\n" + rest
    path.write_text(updated)


def keep_section(path: Path, heading: str, document: str) -> str:
    """Return document with the heading's section of path, if any, appended."""
    if not path.exists():
        return document
    text = path.read_text()
    start = text.find(f"\n{heading}\n")
    if start < 0:
        return document
    end = text.find("\n## ", start + 1)
    kept = text[start + 1 : end if end >= 0 else len(text)]
    return document.rstrip("\n") + "\n\n" + kept.strip("\n") + "\n"
