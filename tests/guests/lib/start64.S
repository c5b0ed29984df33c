/* 64-bit entry: vmm enters in long mode with RSI = zero page, RSP set. */
	.section .text.start, "ax"
	.globl _start
	.code64
_start:
	mov %rsi, %rdi
	call guest_main
1:	hlt
	jmp 1b
