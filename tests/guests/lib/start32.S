/* 32-bit PVH entry: EBX = hvm_start_info, no paging, no stack. */
	.section .text.start, "ax"
	.globl _start
	.code32
_start:
	mov $stack_top, %esp
	push %ebx
	call guest_main
1:	hlt
	jmp 1b

	.section .bss
	.align 16
	.space 8192
stack_top:

	/* The Xen PVH entry note: name "Xen", type 18 (PHYS32_ENTRY). */
	.section .note.Xen, "a", @note
	.align 4
	.long 4, 4, 18
	.asciz "Xen"
	.long _start
