"""API key rules and the token bucket (pure)."""

import pytest
from wattline_gateway.domain import api_keys
from wattline_gateway.domain.rate_limit import Buckets, FailureLimiter, TokenBucket


def test_generated_keys_verify_against_their_hash_only() -> None:
    new = api_keys.generate()
    assert api_keys.parse_prefix(new.secret) == new.prefix
    assert api_keys.verify(new.secret, new.key_hash)
    assert not api_keys.verify(new.secret + "x", new.key_hash)
    assert new.secret not in new.key_hash
    assert api_keys.parse_prefix("not-a-key") is None


def test_scopes() -> None:
    assert api_keys.validate_scopes(["settlement:read", "settlement:read"]) == ["settlement:read"]
    with pytest.raises(api_keys.InvalidScope):
        api_keys.validate_scopes(["settlement:delete"])
    with pytest.raises(api_keys.InvalidScope):
        api_keys.validate_scopes([])
    read = frozenset({"settlement:read"})
    assert api_keys.allows(read, "settlement", "GET")
    assert not api_keys.allows(read, "settlement", "POST")
    assert not api_keys.allows(read, "portfolio", "GET")
    assert api_keys.allows(frozenset({"portfolio:write"}), "portfolio", "GET")
    assert api_keys.allows(frozenset({"admin"}), "invoicing", "DELETE")


def test_token_bucket_allows_the_limit_then_refills() -> None:
    bucket = TokenBucket(per_minute=3)
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(100.0) == pytest.approx(20.0)  # one token per 20 s
    assert bucket.take(120.0) == 0.0


def test_failures_per_address_are_limited_in_bounded_memory() -> None:
    limiter = FailureLimiter(per_minute=2, max_addresses=3)
    assert limiter.blocked_for("10.0.0.1", 100.0) == 0.0
    assert limiter.fail("10.0.0.1", 100.0) == 0.0
    assert limiter.fail("10.0.0.1", 100.0) == pytest.approx(30.0)  # the bucket is empty now
    assert limiter.blocked_for("10.0.0.1", 110.0) == pytest.approx(20.0)
    assert limiter.blocked_for("10.0.0.2", 110.0) == 0.0  # another address is not affected
    assert limiter.blocked_for("10.0.0.1", 130.0) == 0.0  # refilled
    for n in range(2, 6):
        limiter.fail(f"10.0.0.{n}", 130.0)
    assert len(limiter._buckets) == 3
    assert "10.0.0.1" not in limiter._buckets  # the oldest failure is forgotten first


def test_buckets_by_name_are_bounded_and_forget_the_least_recently_used() -> None:
    buckets = Buckets(max_names=2)
    first = buckets.get("customer-a", 2)
    assert first.take(0.0) == 0.0
    assert buckets.get("customer-a", 2) is first  # the same bucket: its token stays taken
    buckets.get("customer-b", 2)
    buckets.get("customer-a", 2)  # used again: b is now the least recently used
    buckets.get("customer-c", 2)
    assert len(buckets) == 2
    assert "customer-b" not in buckets and "customer-a" in buckets
    assert buckets.get("customer-a", 5) is not first  # a changed limit starts a full bucket


def test_key_names_cannot_pass_for_a_back_office_user() -> None:
    # The audit trail names sessions user:<name>; the CLI's keys are checked like the API's.
    assert api_keys.validate_name("erp.nightly-1") == "erp.nightly-1"
    for bad in ("user:karin", "", "-x", "a" * 101, "é"):
        with pytest.raises(api_keys.InvalidName):
            api_keys.validate_name(bad)


def test_a_forgiven_failure_is_given_back_once_and_never_above_the_limit() -> None:
    limiter = FailureLimiter(per_minute=2)
    limiter.fail("10.0.0.1", now=100.0)
    limiter.fail("10.0.0.1", now=100.0)
    assert limiter.blocked_for("10.0.0.1", now=100.0) > 0
    limiter.forgive("10.0.0.1", now=100.0)
    assert limiter.blocked_for("10.0.0.1", now=100.0) == 0
    limiter.forgive("10.0.0.1", now=100.0)
    limiter.forgive("10.0.0.1", now=100.0)  # capped at the limit: two more failures block it
    limiter.fail("10.0.0.1", now=100.0)
    limiter.fail("10.0.0.1", now=100.0)
    assert limiter.blocked_for("10.0.0.1", now=100.0) > 0
