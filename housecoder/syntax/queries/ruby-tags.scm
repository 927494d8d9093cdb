; Ruby: definitions and references for the symbols table.
(method name: (_) @name.definition.method)
(singleton_method name: (_) @name.definition.method)
(class name: (constant) @name.definition.class)
(class name: (scope_resolution name: (constant) @name.definition.class))
(module name: (constant) @name.definition.module)

(call method: (identifier) @name.reference.call)
(superclass (constant) @name.reference.class)
