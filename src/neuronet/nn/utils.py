"""(placeholder: gradient clipping and parameter/vector helpers are being written)"""
