def cuda_available():
    try:
        import ember.cuda
        return ember.cuda.is_available()
    except Exception:
        return False
