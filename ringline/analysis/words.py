"""Word splitting and matching shared by the offline summary and field rules."""

import re

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
MIN_PREFIX_LENGTH = 4

# Common English function words, plus the fillers and courtesies of a phone
# call, which carry no topic.
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because
    been before being below between both but by can could did do does doing
    down during each few for from further had has have having he her here hers
    herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves
    out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would
    you your yours yourself yourselves i'm i'd i'll i've you're you'll you've
    you'd it's that's there's let's don't can't won't isn't aren't wasn't
    weren't doesn't didn't shouldn't couldn't wouldn't hasn't haven't
    hello hi hey bye goodbye yes yeah yep no nope okay ok oh um uh hmm well
    please thank thanks sure right great good fine alright just also like get
    got let know think really actually maybe may might shall must one
    calling call whether callee agent caller person field value
    """.split()
)


def words(text: str) -> list[str]:
    """Split text into lower-case words, keeping contractions whole."""
    return WORD.findall(text.lower().replace("\u2019", "'"))


def content_words(text: str) -> list[str]:
    """Return the words of text, less stop words and single letters."""
    return [word for word in words(text) if len(word) > 1 and word not in STOP_WORDS]


def same_word(first: str, second: str) -> bool:
    """Tell whether two words share a stem, judged by a common prefix.

    `confirm` matches `confirmed` and `confirmation`. This is a cheap stand-in
    for a stemmer: the shorter word must be at least four letters, so `date`
    matches `dates`, but `book` also matches `bookkeeping`.
    """
    if first == second:
        return True
    shorter, longer = sorted((first, second), key=len)
    return len(shorter) >= MIN_PREFIX_LENGTH and longer.startswith(shorter)
