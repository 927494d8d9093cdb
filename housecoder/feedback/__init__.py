"""housecoder.feedback: what the user did with the suggestions, kept on this machine.

`store` is one SQLite file per workspace under the user cache (`<cache>/feedback/<repo key>.sqlite`):
each suggestion shown (where, what, how fast, with which context, adapter and layout), whether it was
accepted (wholly or partly) or rejected, and what was left of it at its place some time later (`retention`
measures that on the buffer). `stats` sums it up for `housecoder stats`. Nothing here sends anything
anywhere; `feedback.enabled = false` turns recording off and deleting the file forgets it all.
"""
