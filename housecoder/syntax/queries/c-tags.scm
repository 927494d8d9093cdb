; C: definitions and references for the symbols table.
(function_definition declarator: (function_declarator declarator: (identifier) @name.definition.function))
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name.definition.function)))
(struct_specifier name: (type_identifier) @name.definition.struct body: (_))
(union_specifier name: (type_identifier) @name.definition.union body: (_))
(enum_specifier name: (type_identifier) @name.definition.enum body: (_))
(type_definition declarator: (type_identifier) @name.definition.type)
(preproc_function_def name: (identifier) @name.definition.macro)
(preproc_def name: (identifier) @name.definition.macro)

(call_expression function: (identifier) @name.reference.call)
(call_expression function: (field_expression field: (field_identifier) @name.reference.call))
