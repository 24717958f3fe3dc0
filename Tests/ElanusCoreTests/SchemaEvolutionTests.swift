import ElanusCore
import Testing

/// The pure half of schema evolution: which fields may be added, and how a batch written before
/// a field existed reads it.
@Suite struct SchemaEvolutionTests {
    static let schema = CollectionSchema(fields: [
        FieldSchema(fieldID: 100, name: "id", dataType: .int64, isPrimary: true),
        FieldSchema(fieldID: 101, name: "v", dataType: .floatVector, typeParams: [KeyValue("dim", "2")]),
        FieldSchema(fieldID: 102, name: "c", dataType: .int32, isClusteringKey: true),
    ])

    /// Each refused field and the message it gets (all code 1100).
    static let refused: [(FieldSchema, String)] = [
        (FieldSchema(name: "n", dataType: .int64), "added field must be nullable, please check it, field name = n"),
        (FieldSchema(name: "n", dataType: .int64, defaultValue: .int(1)), "added field must be nullable, please check it, field name = n"),
        (FieldSchema(name: "w", dataType: .binaryVector, typeParams: [KeyValue("dim", "8")]), "not support to add vector field, field name = w"),
        (FieldSchema(name: "RowID", dataType: .int64, nullable: true), "not support to add system field, field name = RowID"),
        (FieldSchema(name: "k", dataType: .int64, isPrimary: true, nullable: true), "not support to add pk field, field name = k"),
        (FieldSchema(name: "k", dataType: .int64, isPartitionKey: true, nullable: true), "not support to add partition key field, field name  = k"),
        (FieldSchema(name: "k", dataType: .int64, isClusteringKey: true, nullable: true), "already has another clutering key field, field name: k"),
        (FieldSchema(name: "k-1", dataType: .int64, nullable: true), "Invalid field name: k-1."),
        (FieldSchema(name: "t", dataType: .text, nullable: true), "data type Text of field t is not supported by Elanus yet"),
        (FieldSchema(name: "j", dataType: .json, nullable: true, defaultValue: .string("{}")), "JSON field j does not support default_value"),
        (FieldSchema(name: "id", dataType: .int64, nullable: true), "duplicate field name: id"),
    ]

    @Test(arguments: refused) func refusedFields(field: FieldSchema, message: String) {
        #expect(throws: ElanusError.self) { try Self.schema.validateAddedField(field) }
        do {
            try Self.schema.validateAddedField(field)
        } catch {
            #expect(error.code == .invalidParameter && error.message.hasPrefix(message), "\(error.message)")
        }
    }

    @Test func theFieldLimitCountsExistingFields() throws {
        var limits = SchemaLimits()
        limits.maxFields = 3
        let field = FieldSchema(name: "n", dataType: .int64, nullable: true)
        #expect(throws: ElanusError.invalidParameter("The number of fields has reached the maximum value 3")) {
            try Self.schema.validateAddedField(field, limits: limits)
        }
        limits.maxFields = 4
        try Self.schema.validateAddedField(field, limits: limits)
        #expect(Self.schema.nextFieldID == 103)
    }

    @Test func olderBatchesReadTheDefaultOrNull() {
        let withDefault = FieldSchema(fieldID: 103, name: "d", dataType: .int64, nullable: true, defaultValue: .int(7))
        let plain = FieldSchema(fieldID: 104, name: "s", dataType: .varChar, nullable: true, typeParams: [KeyValue("max_length", "4")])
        let old = EntityBatch(rowCount: 2, columns: [Column(fieldID: 100, values: .int64([1, 2]))])
        let conformed = old.conformed(to: [Self.schema.fields[0], withDefault, plain])
        #expect(conformed.columns.map(\.fieldID) == [100, 103, 104])
        #expect(conformed.column(103) == Column(fieldID: 103, values: .int64([7, 7]), valid: [true, true]))
        #expect(conformed.column(104)?.value(at: 1) == .null)
        #expect(conformed.conformed(to: [withDefault, plain]) == conformed)
        #expect(!conformed.lacksColumn(of: [withDefault, plain]) && old.lacksColumn(of: [plain]))

        // gather matches columns by id: a batch without the column reads null, and a column the
        // shape does not have is left out.
        let shape = EntityBatch(columns: [Column(fieldID: 100, values: .int64([])), Column(fieldID: 104, values: .string([]), valid: [])])
        let gathered = EntityBatch.gather([(old, 1), (conformed, 0)], shape: shape)
        #expect(gathered.rowCount == 2 && gathered.columns.map(\.fieldID) == [100, 104])
        #expect(gathered.column(100)?.values == .int64([2, 1]))
        #expect(gathered.column(104)?.valid == [false, false])
    }
}
