import ScreenPop
import Testing

@Suite("Phone-number normalization")
struct PhoneNumberTests {
    let china = PhoneNumberRules()
    let germany = PhoneNumberRules(countryCode: "49")

    @Test(
        "Chinese landline and mobile spellings reduce to E.164",
        arguments: [
            ("+86 10 1234 5678", "+861012345678"),
            ("0086 10 1234 5678", "+861012345678"),
            ("008610-12345678", "+861012345678"),
            ("010 1234 5678", "+861012345678"),
            ("(010) 1234-5678", "+861012345678"),
            ("010.1234.5678", "+861012345678"),
            ("+86 010 1234 5678", "+861012345678"),
            ("0755-8888 9999", "+8675588889999"),
            ("138 1234 5678", "+8613812345678"),
            ("+86 138-1234-5678", "+8613812345678"),
            ("0086 13812345678", "+8613812345678"),
            ("１３８１２３４５６７８", "+8613812345678"),
            ("＋８６ １３８ １２３４ ５６７８", "+8613812345678"),
        ])
    func chineseSpellings(raw: String, canonical: String) {
        #expect(china.normalize(raw) == canonical)
    }

    @Test(
        "German spellings with country code 49",
        arguments: [
            ("+49 89 1234567", "+49891234567"),
            ("0049 89 1234567", "+49891234567"),
            ("089 1234567", "+49891234567"),
            ("089/123 45 67", "+49891234567"),
            ("+49 (0)89 123 45 67", "+49891234567"),
            ("0171 1234567", "+491711234567"),
            ("+86 10 1234 5678", "+861012345678"),
            ("0086 10 1234 5678", "+861012345678"),
        ])
    func germanSpellings(raw: String, canonical: String) {
        #expect(germany.normalize(raw) == canonical)
    }

    @Test("extensions up to the configured length stay digits")
    func extensions() {
        #expect(china.normalize("4001") == "4001")
        #expect(china.normalize("40-01") == "4001")
        #expect(china.normalize("96510") == "96510")
        #expect(china.normalize("800100") == "800100")
        let short = PhoneNumberRules(maxExtensionDigits: 3)
        #expect(short.normalize("4001") == nil)  // too short for an external number
        #expect(short.normalize("401") == "401")
    }

    @Test("an outside-line digit the PBX adds is dropped")
    func outsideLine() {
        let nine = PhoneNumberRules(outsideLinePrefix: "9")
        #expect(nine.normalize("9 010 1234 5678") == "+861012345678")
        #expect(nine.normalize("913812345678") == "+8613812345678")
        #expect(nine.normalize("9008613812345678") == "+8613812345678")
        #expect(nine.normalize("010 1234 5678") == "+861012345678")
        #expect(nine.normalize("4001") == "4001")
        let zero = PhoneNumberRules(outsideLinePrefix: "0")
        #expect(zero.normalize("0 010 1234 5678") == "+861012345678")
        #expect(zero.normalize("0 138 1234 5678") == "+8613812345678")
        #expect(zero.normalize("4001") == "4001")
    }

    @Test("the country code without a prefix only when configured")
    func bareCountryCode() {
        let bare = PhoneNumberRules(acceptsCountryCodeWithoutPrefix: true)
        #expect(bare.normalize("8613812345678") == "+8613812345678")
        #expect(bare.normalize("13812345678") == "+8613812345678")
        #expect(china.normalize("8613812345678") == "+868613812345678")
    }

    @Test(
        "unparseable input is nil, never a trap",
        arguments: [
            "", "   ", "abc", "+", "++8613812345678", "138+12345678", "010 1234 5678 ext 12", "0000000", "000000000",
            "+0 123 4567", "+86 1", "1234567890123456789012345678901234567890", "☎️ 4001", "4001#", "*4001",
            "+1234567890123456",
        ])
    func garbage(raw: String) {
        #expect(china.normalize(raw) == nil)
    }

    @Test("spellings cover how a switch may have written a canonical number")
    func spellings() {
        let rules = PhoneNumberRules(outsideLinePrefix: "9")
        let forms = rules.spellings(of: "+8613812345678")
        for form in ["+8613812345678", "8613812345678", "008613812345678", "013812345678", "13812345678", "913812345678"] {
            #expect(forms.contains(form))
        }
        #expect(Set(forms).count == forms.count)
        #expect(forms.allSatisfy { rules.normalize($0) == "+8613812345678" || $0 == "8613812345678" || $0 == "98613812345678" })
        #expect(rules.spellings(of: "4001") == ["4001"])
    }

    @Test("configuration problems are named")
    func configuration() {
        #expect(PhoneNumberRules().problems.isEmpty)
        #expect(!PhoneNumberRules(countryCode: "x").problems.isEmpty)
        #expect(!PhoneNumberRules(outsideLinePrefix: "#").problems.isEmpty)
    }
}
