"""HTTP for every network step: the one client factory, the one retry loop, streamed downloads.

Kept empty on purpose: ``auth.policy`` (on the launcher's hot path) imports ``http.retry``, and
nothing here may pull httpx in with it.
"""
