"""The public site: views, the presentation helpers they share (claims in words, charts' data), feeds."""
