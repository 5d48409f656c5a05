from wattline_platform.identifiers import gsrn_with_check_digit, is_valid_gln, is_valid_gsrn


def test_gsrn_check_digit() -> None:
    assert is_valid_gsrn("571313100000000003")
    assert not is_valid_gsrn("571313100000000004")  # wrong check digit
    assert not is_valid_gsrn("581313100000000003")  # must start 57
    assert not is_valid_gsrn("57131310000000003")  # 17 digits
    assert gsrn_with_check_digit("57131310000000000") == "571313100000000003"


def test_gln_check_digit() -> None:
    assert is_valid_gln("5790001330552")  # DataHub's GLN
    assert not is_valid_gln("5790001330553")


def test_only_ascii_digits_make_an_identifier() -> None:
    # int() reads Arabic-Indic digits, so a check digit can come out right for them.
    arabic = "".join(chr(0x0660 + int(c)) for c in "57131310000000000")
    assert gsrn_with_check_digit("57131310000000000")[-1] == "3"
    assert not is_valid_gsrn(arabic + "3")
    assert not is_valid_gln("".join(chr(0xFF10 + int(c)) for c in "579000133055") + "2")
