struct XMLRecordEncoder {
    let record: CSTARecord
    init(_ record: CSTARecord) { self.record = record }
    mutating func encode() throws(CSTAEncodeError) -> [UInt8] { throw CSTAEncodeError("todo") }
}
