; Python: definitions and references for the symbols table.
(class_definition name: (identifier) @name.definition.class)
(function_definition name: (identifier) @name.definition.function)
(module (expression_statement (assignment left: (identifier) @name.definition.constant)))

(call function: (identifier) @name.reference.call)
(call function: (attribute attribute: (identifier) @name.reference.call))
(class_definition superclasses: (argument_list (identifier) @name.reference.class))
(type (identifier) @name.reference.type)
(import_from_statement name: (dotted_name (identifier) @name.reference.import))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @name.reference.import)))
(import_statement name: (dotted_name (identifier) @name.reference.import))
