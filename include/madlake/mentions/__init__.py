"""Mentions and sentiment: which tracked tools each Reddit text talks about, and what people think of them.

* :mod:`madlake.mentions.extract` — the catalog-driven extractor:
  one Rust Aho-Corasick pass per batch, context rules on candidate hits only.
* :mod:`madlake.mentions.lexicon` — the offline enrichment: AFINN sentiment on the mention's sentence.
* :mod:`madlake.mentions.llm` — the LLM enrichment (OpenAI-compatible endpoint, pydantic-validated output).
* :mod:`madlake.mentions.cache` — the enrichment cache, keyed by (text hash, tool, prompt version, model).

Importing this package is cheap (no pyarrow, openai or ahocorasick at import time).
"""
