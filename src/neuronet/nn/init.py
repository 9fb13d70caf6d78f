"""(placeholder: initializers are being written)"""
