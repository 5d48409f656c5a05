import pytest
from wattline_platform.pii import PiiCipher, PiiError, mask


def test_sealed_personal_data_opens_only_with_its_key() -> None:
    cipher = PiiCipher(PiiCipher.new_key())
    token = cipher.seal("0101901234")
    assert "0101901234" not in token
    assert cipher.open(token) == "0101901234"
    with pytest.raises(PiiError):
        PiiCipher(PiiCipher.new_key()).open(token)
    with pytest.raises(PiiError):
        cipher.open(token[:-4] + "AAAA")


def test_mask() -> None:
    assert mask("0101901234") == "010190****"
    assert mask("30000005", visible=4) == "3000****"
